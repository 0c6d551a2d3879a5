package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

// TestTwoChatServersShareRedis runs two chatserver processes behind one
// Redis (-redis), as two instances behind a load balancer.
func TestTwoChatServersShareRedis(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	bin := buildBin(t)
	secret := newSecret()
	storeKey := newSecret()
	t.Setenv("MSGSEC_STORE_KEY", base64.RawURLEncoding.EncodeToString(storeKey))
	a := startTestServer(t, bin, secret, "-redis", redisURL)
	b := startTestServer(t, bin, secret, "-redis", redisURL)
	signer, err := newSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://www.uplusbank.com"
	open := func(s *server, token string) (int, string) {
		return post(t, s.base+"/connections/"+connectionID+"/sessions", origin, token, `{}`)
	}
	browserToken := func() string {
		tok, err := signer.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-browser"}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	t.Run("browser token accepted by one instance is refused by the other", func(t *testing.T) {
		tok := browserToken()
		if code, body := open(a, tok); code != http.StatusCreated {
			t.Fatalf("instance A: %d %s", code, body)
		}
		if code, _ := open(b, tok); code != http.StatusUnauthorized {
			t.Fatalf("instance B accepted a token A already used: %d", code)
		}
		if code, _ := open(a, tok); code != http.StatusUnauthorized {
			t.Fatalf("instance A accepted its own token twice: %d", code)
		}
		// B is healthy: a fresh token passes.
		if code, body := open(b, browserToken()); code != http.StatusCreated {
			t.Fatalf("instance B refused a fresh token: %d %s", code, body)
		}
	})

	t.Run("secret data delivered to one instance is sealed in redis and its token refused by the other", func(t *testing.T) {
		code, body := open(a, "")
		if code != http.StatusCreated {
			t.Fatalf("open on A: %d %s", code, body)
		}
		var s struct{ Session string }
		if err := json.Unmarshal([]byte(body), &s); err != nil || s.Session == "" {
			t.Fatalf("open on A: %q", body)
		}
		tok, err := signer.Sign(secretdata.Claims{SessionID: s.Session,
			SecretData: map[string]any{"customer_id": "C-7781-delivered"}})
		if err != nil {
			t.Fatal(err)
		}
		url := "/connections/" + connectionID + "/sessions/" + s.Session + "/secret-data"
		if code, body := post(t, a.base+url, "", tok, ""); code != http.StatusNoContent {
			t.Fatalf("delivery to A: %d %s", code, body)
		}
		if _, page := get(t, a.base+"/agent"); !strings.Contains(page, "C-7781-delivered") {
			t.Fatal("A's agent view does not show the delivered secret data")
		}
		// The same delivery, replayed to B, is refused by the shared cache
		// (the token is checked before the session is looked up).
		if code, _ := post(t, b.base+url, "", tok, ""); code != http.StatusUnauthorized {
			t.Fatalf("B accepted a delivery token A already used: %d", code)
		}
		assertRedisHoldsNoPlaintext(t, redisURL, "C-7781-delivered", s.Session)
	})
}

// assertRedisHoldsNoPlaintext scans the chat server's keys (prefix msgsec)
// for the secret value and the session ID.
func assertRedisHoldsNoPlaintext(t *testing.T, url string, needles ...string) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	iter := c.Scan(ctx, 0, "msgsec:sd:*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
		key := iter.Val()
		val, err := c.Get(ctx, key).Result()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		for _, s := range needles {
			if strings.Contains(key, s) || strings.Contains(val, s) {
				t.Fatalf("redis key %q or its value contains %q", key, s)
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no secret-data key in redis: the chat server did not use the redis store")
	}
}
