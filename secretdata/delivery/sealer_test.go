package delivery_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

func testClaims() *secretdata.Claims {
	return &secretdata.Claims{
		Issuer: issuer, Subject: subject, Audience: connA,
		IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(4 * time.Minute),
		ID: "AAAAAAAAAAAAAAAAAAAAAA", SessionID: sessA,
		SecretData: map[string]any{
			secretdata.ClaimCustomerID: custID,
			"balance_note":             secretV1,
			"score":                    json.Number("12345678901234567890"),
			"nested":                   map[string]any{"ok": true},
		},
	}
}

func mustSealer(t testing.TB, key []byte) *delivery.Sealer {
	t.Helper()
	s, err := delivery.NewSealer(key)
	require.NoError(t, err)
	return s
}

func TestNewSealerRefusesBadKeys(t *testing.T) {
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	for _, tc := range []struct {
		name string
		key  []byte
		ok   bool
	}{
		{"32 random bytes", random, true},
		{"nil key", nil, false},
		{"16 bytes (AES-128)", random[:16], false},
		{"24 bytes (AES-192)", random[:24], false},
		{"31 bytes", random[:31], false},
		{"33 bytes", append(append([]byte{}, random...), 1), false},
		{"64 bytes", append(append([]byte{}, random...), random...), false},
		{"all zeros", make([]byte, 32), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := delivery.NewSealer(tc.key)
			if tc.ok {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.Nil(t, s)
			requireProblems(t, err, delivery.ErrConfig, []string{"key"}, string(random[:16]))
		})
	}
}

func TestSealerRoundTrip(t *testing.T) {
	s := mustSealer(t, storeKey32)
	in := testClaims()
	sealed, err := s.SealClaims(connA, sessA, in, t0.Add(time.Hour))
	require.NoError(t, err)
	out, err := s.OpenClaims(connA, sessA, sealed, t0)
	require.NoError(t, err)
	require.True(t, out.IssuedAt.Equal(in.IssuedAt), "iat %v", out.IssuedAt)
	require.True(t, out.ExpiresAt.Equal(in.ExpiresAt), "exp %v", out.ExpiresAt)
	require.True(t, out.NotBefore.IsZero(), "nbf %v", out.NotBefore)
	out.IssuedAt, out.ExpiresAt = in.IssuedAt, in.ExpiresAt
	require.True(t, reflect.DeepEqual(out, in), "round trip changed the claims:\n got %#v\nwant %#v", *out, *in)
}

func TestSealerNoncesDiffer(t *testing.T) {
	s := mustSealer(t, storeKey32)
	a, _ := s.SealClaims(connA, sessA, testClaims(), t0.Add(time.Hour))
	b, _ := s.SealClaims(connA, sessA, testClaims(), t0.Add(time.Hour))
	require.NotEqual(t, a[1:13], b[1:13], "two seals of the same claims share a nonce")
	require.NotEqual(t, a, b)
}

// TestSealerBindsConnectionAndSession: bytes sealed for one (connection,
// session) must not open anywhere else, nor under another key, nor after
// any single bit is flipped.
func TestSealerBindsConnectionAndSession(t *testing.T) {
	s := mustSealer(t, storeKey32)
	other := mustSealer(t, []byte("another-32-byte-key-for-tests-!!"))
	sealed, err := s.SealClaims("ab", "c", testClaims(), t0.Add(time.Hour))
	require.NoError(t, err)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name       string
		sealer     *delivery.Sealer
		conn, sess string
		bytes      []byte
		wantErr    error
	}{
		{"same connection and session opens", s, "ab", "c", sealed, nil},
		{"another session", s, "ab", "d", sealed, delivery.ErrCorrupt},
		{"another connection", s, "ax", "c", sealed, delivery.ErrCorrupt},
		{"boundary moved between the ids", s, "a", "bc", sealed, delivery.ErrCorrupt},
		{"ids swapped", s, "c", "ab", sealed, delivery.ErrCorrupt},
		{"another key", other, "ab", "c", sealed, delivery.ErrCorrupt},
		{"version byte flipped", s, "ab", "c", flip(0), delivery.ErrCorrupt},
		{"nonce bit flipped", s, "ab", "c", flip(5), delivery.ErrCorrupt},
		{"ciphertext bit flipped", s, "ab", "c", flip(20), delivery.ErrCorrupt},
		{"tag bit flipped", s, "ab", "c", flip(len(sealed) - 1), delivery.ErrCorrupt},
		{"truncated", s, "ab", "c", sealed[:len(sealed)-1], delivery.ErrCorrupt},
		{"empty", s, "ab", "c", nil, delivery.ErrCorrupt},
		{"only a header", s, "ab", "c", sealed[:29], delivery.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.sealer.OpenClaims(tc.conn, tc.sess, tc.bytes, t0)
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			require.Nil(t, c)
		})
	}
}

func TestSealerDeadline(t *testing.T) {
	s := mustSealer(t, storeKey32)
	deadline := t0.Add(10 * time.Minute)
	sealed, _ := s.SealClaims(connA, sessA, testClaims(), deadline)
	for _, tc := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"before the deadline", deadline.Add(-time.Nanosecond), nil},
		{"at the deadline", deadline, delivery.ErrNotFound},
		{"after the deadline", deadline.Add(time.Hour), delivery.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.OpenClaims(connA, sessA, sealed, tc.at)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestSealerRawBytesHidePlaintext(t *testing.T) {
	s := mustSealer(t, storeKey32)
	sealed, _ := s.SealClaims(connA, sessA, testClaims(), t0.Add(time.Hour))
	for _, n := range append(plaintextNeedles, "customer_id", issuer) {
		assert.False(t, bytes.Contains(sealed, []byte(n)), "sealed bytes contain %q", n)
	}
}

func TestSealClaimsRefuses(t *testing.T) {
	s := mustSealer(t, storeKey32)
	for _, tc := range []struct {
		name string
		c    *secretdata.Claims
	}{
		{"nil claims", nil},
		{"secret data not json-encodable", &secretdata.Claims{SecretData: map[string]any{"f": func() {}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SealClaims(connA, sessA, tc.c, t0)
			require.ErrorIs(t, err, delivery.ErrConfig)
		})
	}
}
