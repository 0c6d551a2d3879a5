package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	const origin = "https://www.uplusbank.com"
	const conn = "/connections/" + connectionID
	open := func(s *server, token string) (int, string) {
		return post(t, s.base+conn+"/sessions", origin, token, `{"cookies":{"page_viewed":"home"}}`)
	}
	sign := func(c secretdata.Claims) string {
		tok, err := signer.Sign(c)
		require.NoError(t, err)
		return tok
	}
	agentShows := func(s *server, name string, wants ...string) {
		t.Helper()
		code, page := get(t, s.base+"/agent")
		require.Equal(t, http.StatusOK, code, "%s agent view", name)
		for _, w := range wants {
			assert.Containsf(t, page, w, "%s agent view", name)
		}
	}

	// A session on A, with a browser token and server-to-server data.
	code, body := open(a, sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-browser-on-A"}}))
	var s struct{ Session string }
	require.Equal(t, http.StatusCreated, code, "open on A: %q", body)
	require.NoError(t, json.Unmarshal([]byte(body), &s), "open on A: %q", body)
	require.NotEmpty(t, s.Session, "open on A: %q", body)
	sessionPath := conn + "/sessions/" + s.Session
	delivery := sign(secretdata.Claims{SessionID: s.Session, SecretData: map[string]any{"customer_id": "C-7781-delivered"}})

	t.Run("secret data posted to A is shown by B's agent view", func(t *testing.T) {
		code, body := post(t, a.base+sessionPath+"/secret-data", "", delivery, "")
		require.Equal(t, http.StatusNoContent, code, "delivery to A: %s", body)
		agentShows(b, "B", s.Session, "C-7781-delivered", "C-browser-on-A", "<th>page_viewed</th><td>home</td>")
	})

	t.Run("a session created on A gets a message through B", func(t *testing.T) {
		code, body := post(t, b.base+sessionPath+"/messages", origin, sign(secretdata.Claims{}), `{"text":"sent through B"}`)
		require.Equal(t, http.StatusNoContent, code, "message through B: %s", body)
		agentShows(a, "A", "sent through B", "Echo: sent through B")
	})

	t.Run("a token accepted by A is refused by B", func(t *testing.T) {
		tok := sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-once"}})
		code, body := open(a, tok)
		require.Equal(t, http.StatusCreated, code, "A refused a fresh token: %s", body)
		code, _ = open(b, tok)
		require.Equal(t, http.StatusUnauthorized, code, "B accepted a token A already used")
		code, _ = post(t, b.base+sessionPath+"/secret-data", "", delivery, "")
		require.Equal(t, http.StatusUnauthorized, code, "B accepted a delivery token A already used")
		code, body = open(b, sign(secretdata.Claims{}))
		require.Equal(t, http.StatusCreated, code, "B refused a fresh token: %s", body)
	})

	t.Run("A killed and restarted on the same Redis keeps the session and its secret data", func(t *testing.T) {
		a.kill()
		a2 := startTestServer(t, bin, secret, "-redis", redisURL)
		agentShows(a2, "restarted A", s.Session, "C-7781-delivered", "C-browser-on-A", "sent through B")
		code, body := post(t, a2.base+sessionPath+"/messages", origin, sign(secretdata.Claims{}), `{"text":"after the restart"}`)
		require.Equal(t, http.StatusNoContent, code, "message after the restart: %s", body)
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
	require.NoError(t, err)
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	for _, pattern := range []string{"msgsec:chat:*"} {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			require.NotContains(t, key, needles[len(needles)-1], "a redis key names the session")
			if typ, _ := c.Type(ctx, key).Result(); typ != "hash" {
				continue
			}
			fields, err := c.HGetAll(ctx, key).Result()
			require.NoError(t, err)
			// A session's hash holds its ID by design (the agent view
			// lists it); never secret data in clear.
			for f, v := range fields {
				for _, secret := range needles[:len(needles)-1] {
					require.NotContainsf(t, v, secret, "redis session field %q holds it in clear", f)
				}
			}
		}
		require.NoError(t, iter.Err())
	}
	iter := c.Scan(ctx, 0, "msgsec:sd:*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
		key := iter.Val()
		val, err := c.Get(ctx, key).Result()
		if err != redis.Nil {
			require.NoError(t, err)
		}
		for _, s := range needles {
			require.NotContains(t, key, s, "a redis key")
			require.NotContainsf(t, val, s, "the value of redis key %q", key)
		}
	}
	require.NoError(t, iter.Err())
	require.NotZero(t, n, "no secret-data key in redis: the chat server did not use the redis store")
}
