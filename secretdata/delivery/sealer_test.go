package delivery

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/msgsec/msgsec/secretdata"
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

func mustSealer(t testing.TB, key []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
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
			s, err := NewSealer(tc.key)
			if tc.ok != (err == nil) || tc.ok != (s != nil) {
				t.Fatalf("NewSealer: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestSealerRoundTrip(t *testing.T) {
	s := mustSealer(t, storeKey32)
	in := testClaims()
	sealed, err := s.SealClaims(connA, sessA, in, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.OpenClaims(connA, sessA, sealed, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !out.IssuedAt.Equal(in.IssuedAt) || !out.ExpiresAt.Equal(in.ExpiresAt) || !out.NotBefore.IsZero() {
		t.Fatalf("times: got iat %v exp %v nbf %v", out.IssuedAt, out.ExpiresAt, out.NotBefore)
	}
	out.IssuedAt, out.ExpiresAt = in.IssuedAt, in.ExpiresAt
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip changed the claims:\n got %#v\nwant %#v", *out, *in)
	}
}

func TestSealerNoncesDiffer(t *testing.T) {
	s := mustSealer(t, storeKey32)
	a, _ := s.SealClaims(connA, sessA, testClaims(), t0.Add(time.Hour))
	b, _ := s.SealClaims(connA, sessA, testClaims(), t0.Add(time.Hour))
	if bytes.Equal(a[1:13], b[1:13]) || bytes.Equal(a, b) {
		t.Fatal("two seals of the same claims share a nonce")
	}
}

// TestSealerBindsConnectionAndSession: bytes sealed for one (connection,
// session) must not open anywhere else, nor under another key, nor after
// any single bit is flipped.
func TestSealerBindsConnectionAndSession(t *testing.T) {
	s := mustSealer(t, storeKey32)
	other := mustSealer(t, []byte("another-32-byte-key-for-tests-!!"))
	sealed, err := s.SealClaims("ab", "c", testClaims(), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name       string
		sealer     *Sealer
		conn, sess string
		bytes      []byte
		wantErr    error
	}{
		{"same connection and session opens", s, "ab", "c", sealed, nil},
		{"another session", s, "ab", "d", sealed, ErrCorrupt},
		{"another connection", s, "ax", "c", sealed, ErrCorrupt},
		{"boundary moved between the ids", s, "a", "bc", sealed, ErrCorrupt},
		{"ids swapped", s, "c", "ab", sealed, ErrCorrupt},
		{"another key", other, "ab", "c", sealed, ErrCorrupt},
		{"version byte flipped", s, "ab", "c", flip(0), ErrCorrupt},
		{"nonce bit flipped", s, "ab", "c", flip(5), ErrCorrupt},
		{"ciphertext bit flipped", s, "ab", "c", flip(20), ErrCorrupt},
		{"tag bit flipped", s, "ab", "c", flip(len(sealed) - 1), ErrCorrupt},
		{"truncated", s, "ab", "c", sealed[:len(sealed)-1], ErrCorrupt},
		{"empty", s, "ab", "c", nil, ErrCorrupt},
		{"only a header", s, "ab", "c", sealed[:29], ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.sealer.OpenClaims(tc.conn, tc.sess, tc.bytes, t0)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (c != nil) {
				t.Fatalf("OpenClaims = %v, %v; want error %v", c, err, tc.wantErr)
			}
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
		{"at the deadline", deadline, ErrNotFound},
		{"after the deadline", deadline.Add(time.Hour), ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.OpenClaims(connA, sessA, sealed, tc.at); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSealerRawBytesHidePlaintext(t *testing.T) {
	s := mustSealer(t, storeKey32)
	sealed, _ := s.SealClaims(connA, sessA, testClaims(), t0.Add(time.Hour))
	for _, n := range append(plaintextNeedles, "customer_id", issuer) {
		if bytes.Contains(sealed, []byte(n)) {
			t.Errorf("sealed bytes contain %q", n)
		}
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
			if _, err := s.SealClaims(connA, sessA, tc.c, t0); !errors.Is(err, ErrConfig) {
				t.Fatalf("got %v, want ErrConfig", err)
			}
		})
	}
}
