package main

import (
	"context"
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
// Redis (-redis), as two instances behind a load balancer, and checks the
// issue's sentence: the secret data posted to one is shown by the other's
// agent view; a session created on one gets its messages through the
// other; a token accepted by one is refused by the other; and a restart
// (the process killed, a new one started on the same Redis) loses neither
// the stored secret data nor the session.
func TestTwoChatServersShareRedis(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	bin := buildBin(t)
	secret := newSecret()
	t.Setenv("MSGSEC_STORE_KEY", string(newSecret())) // 32 random bytes in base64url, as the store wants
	a := startTestServer(t, bin, secret, "-redis", redisURL)
	b := startTestServer(t, bin, secret, "-redis", redisURL)
	signer, err := newSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://www.uplusbank.com"
	const conn = "/connections/" + connectionID
	open := func(s *server, token string) (int, string) {
		return post(t, s.base+conn+"/sessions", origin, token, `{"cookies":{"page_viewed":"home"}}`)
	}
	sign := func(c secretdata.Claims) string {
		tok, err := signer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	agentShows := func(s *server, name string, wants ...string) {
		t.Helper()
		code, page := get(t, s.base+"/agent")
		if code != http.StatusOK {
			t.Fatalf("%s agent view: %d", name, code)
		}
		for _, w := range wants {
			if !strings.Contains(page, w) {
				t.Errorf("%s agent view does not show %q", name, w)
			}
		}
	}

	// A session on A, with a browser token and server-to-server data.
	code, body := open(a, sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-browser-on-A"}}))
	var s struct{ Session string }
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &s) != nil || s.Session == "" {
		t.Fatalf("open on A: %d %q", code, body)
	}
	sessionPath := conn + "/sessions/" + s.Session
	delivery := sign(secretdata.Claims{SessionID: s.Session, SecretData: map[string]any{"customer_id": "C-7781-delivered"}})

	t.Run("secret data posted to A is shown by B's agent view", func(t *testing.T) {
		if code, body := post(t, a.base+sessionPath+"/secret-data", "", delivery, ""); code != http.StatusNoContent {
			t.Fatalf("delivery to A: %d %s", code, body)
		}
		agentShows(b, "B", s.Session, "C-7781-delivered", "C-browser-on-A", "<th>page_viewed</th><td>home</td>")
	})

	t.Run("a session created on A gets a message through B", func(t *testing.T) {
		if code, body := post(t, b.base+sessionPath+"/messages", origin, sign(secretdata.Claims{}), `{"text":"sent through B"}`); code != http.StatusNoContent {
			t.Fatalf("message through B: %d %s", code, body)
		}
		agentShows(a, "A", "sent through B", "Echo: sent through B")
	})

	t.Run("a token accepted by A is refused by B", func(t *testing.T) {
		tok := sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-once"}})
		if code, body := open(a, tok); code != http.StatusCreated {
			t.Fatalf("A refused a fresh token: %d %s", code, body)
		}
		if code, _ := open(b, tok); code != http.StatusUnauthorized {
			t.Fatalf("B accepted a token A already used: %d", code)
		}
		if code, _ := post(t, b.base+sessionPath+"/secret-data", "", delivery, ""); code != http.StatusUnauthorized {
			t.Fatalf("B accepted a delivery token A already used: %d", code)
		}
		if code, body := open(b, sign(secretdata.Claims{})); code != http.StatusCreated {
			t.Fatalf("B refused a fresh token: %d %s", code, body)
		}
	})

	t.Run("A killed and restarted on the same Redis keeps the session and its secret data", func(t *testing.T) {
		a.kill()
		a2 := startTestServer(t, bin, secret, "-redis", redisURL)
		agentShows(a2, "restarted A", s.Session, "C-7781-delivered", "C-browser-on-A", "sent through B")
		if code, body := post(t, a2.base+sessionPath+"/messages", origin, sign(secretdata.Claims{}), `{"text":"after the restart"}`); code != http.StatusNoContent {
			t.Fatalf("message after the restart: %d %s", code, body)
		}
		agentShows(b, "B", "after the restart")
	})

	assertRedisHoldsNoPlaintext(t, redisURL, "C-7781-delivered", "C-browser-on-A", s.Session)
}

// assertRedisHoldsNoPlaintext scans the chat server's keys (prefix msgsec)
// for the secret values and the session ID (the last needle): no key names
// any, no secret-data value holds any, and a chat session's fields hold no
// secret value.
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
	for _, pattern := range []string{"msgsec:chat:*"} {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			if strings.Contains(key, needles[len(needles)-1]) {
				t.Fatalf("redis key %q names the session", key)
			}
			if typ, _ := c.Type(ctx, key).Result(); typ != "hash" {
				continue
			}
			fields, err := c.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			// A session's hash holds its ID by design (the agent view
			// lists it); never secret data in clear.
			for f, v := range fields {
				for _, secret := range needles[:len(needles)-1] {
					if strings.Contains(v, secret) {
						t.Fatalf("redis session field %q holds %q in clear", f, secret)
					}
				}
			}
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
	}
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
