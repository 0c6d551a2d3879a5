package redisstore_test

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// dropFirstWaitReply is a TCP proxy to addr that passes everything, except
// that the first time a client sends a WAIT it forwards the request to
// Redis and then closes the client's connection: the writes happen, their
// reply is lost, and go-redis retries the pipeline on a new connection.
func dropFirstWaitReply(t *testing.T, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	var dropped atomic.Bool
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", addr)
			if err != nil {
				_ = client.Close()
				continue
			}
			var mute atomic.Bool // this connection's replies are lost from now on
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := server.Read(buf)
					if n > 0 && !mute.Load() {
						_, _ = client.Write(buf[:n])
					}
					if err != nil {
						_ = client.Close()
						return
					}
				}
			}()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := client.Read(buf)
					if n > 0 {
						if bytes.Contains(bytes.ToLower(buf[:n]), []byte("wait")) && dropped.CompareAndSwap(false, true) {
							mute.Store(true)
							_, _ = server.Write(buf[:n])
							time.Sleep(50 * time.Millisecond) // Redis runs it; the reply goes nowhere
							_ = client.Close()
							_ = server.Close()
							return
						}
						_, _ = server.Write(buf[:n])
					}
					if err != nil {
						_ = server.Close()
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// A record whose reply is lost and retried finds its own entry: the token
// is refused as unavailable (its replication is unknown), not as replayed
// (it was never used before) and never accepted.
func TestWaitRetryIsNotAReplay(t *testing.T) {
	primary := testenv.StartRedis(t)
	u, err := url.Parse(primary.URL())
	require.NoError(t, err)
	direct := newClient(t, primary.URL())
	testenv.StartReplica(t, direct, primary.URL())

	c := redis.NewClient(&redis.Options{Addr: dropFirstWaitReply(t, u.Host), ContextTimeoutEnabled: true, MaxRetries: 3})
	t.Cleanup(func() { _ = c.Close() })
	r := newReplay(t, c, redisstore.Config{WaitReplicas: 1, WaitTimeout: 250 * time.Millisecond, Timeout: 2 * time.Second})
	exp := time.Now().Add(time.Minute)
	err = r.Record(context.Background(), "bank", "genuine-first-use", exp)
	require.ErrorIs(t, err, secretdata.ErrReplayCheckUnavailable)
	require.NotErrorIs(t, err, secretdata.ErrReplayed, "a genuine token is not a replay")
	require.ErrorContains(t, err, "lost and retried")

	require.NoError(t, r.Record(context.Background(), "bank", "next", exp), "the connection works again")
}
