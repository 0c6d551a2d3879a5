package delivery_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const benchSessions = 1024

func benchSessionIDs() []string {
	ids := make([]string, benchSessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("sess-%04d", i)
	}
	return ids
}

func BenchmarkMemoryStore(b *testing.B) {
	ids := benchSessionIDs()
	c := testClaims()
	b.Run("Put", func(b *testing.B) {
		s := newStore(b, newClock(), nil)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			require.NoError(b, s.Put(background(), connA, ids[i%benchSessions], c, time.Hour))
			i++
		}
	})
	b.Run("Get", func(b *testing.B) {
		s := newStore(b, newClock(), nil)
		for _, id := range ids {
			_ = s.Put(background(), connA, id, c, time.Hour)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Get(background(), connA, ids[i%benchSessions]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("PutGetParallel", func(b *testing.B) {
		s := newStore(b, newClock(), nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				id := ids[i%benchSessions]
				_ = s.Put(background(), connA, id, c, time.Hour)
				if _, err := s.Get(background(), connA, id); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

// presign mints n tokens (each needs a fresh jti: the replay cache is on).
func presign(b *testing.B, e *env, n int, ids []string) []string {
	toks := make([]string, n)
	for i := range toks {
		tok, err := e.signers[connA].Sign(secretdata.Claims{SessionID: ids[i%benchSessions], SecretData: secretData()})
		require.NoError(b, err)
		toks[i] = tok
	}
	return toks
}

// BenchmarkHandler compares a whole delivery (routing, body, VerifySession
// with the replay check, seal, store) with its anchor, VerifySession alone
// on the same tokens. Each iteration uses a new token (the replay cache
// grows with b.N, within its default bound for the usual -benchtime); the
// store cycles over 1,024 sessions, so Put mostly replaces.
func BenchmarkHandler(b *testing.B) {
	ids := benchSessionIDs()
	b.Run("anchor=VerifySession", func(b *testing.B) {
		e := newEnv(b, envOpts{})
		toks := presign(b, e, b.N, ids)
		v := e.verifiers[connA]
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := v.VerifySession(background(), toks[i], ids[i%benchSessions]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ServeHTTP", func(b *testing.B) {
		e := newEnv(b, envOpts{config: func(c *delivery.HandlerConfig) { c.Logger = slog.New(slog.DiscardHandler); c.OnEvent = nil }})
		toks := presign(b, e, b.N, ids)
		reqs := make([]*http.Request, b.N)
		for i := range reqs {
			reqs[i] = httptest.NewRequest("POST", path(connA, ids[i%benchSessions]), http.NoBody)
			reqs[i].Header.Set("Authorization", "Bearer "+toks[i])
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w := httptest.NewRecorder()
			e.mux.ServeHTTP(w, reqs[i])
			require.True(b, w.Code == http.StatusNoContent, "status %d", w.Code)
		}
	})
}
