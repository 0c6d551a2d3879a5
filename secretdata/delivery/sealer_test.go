package delivery_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
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
			testenv.RequireProblems(t, err, delivery.ErrConfig, []string{"key"}, string(random[:16]))
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

// goodSealedHex is testClaims sealed with storeKey32 for (connA, sessA)
// until t0 + 1h.
const goodSealedHex = "012ee367e2e765f6a34f64ee1116ae24bae3ac9a3071fcfcc3a9fc3637131fe819f2dc89f2bb1d5f47c742f6b6d654ad780da2b3010d4e67646821f9384412bbab7ff7e3598edbc9b7fd7fb778f5bce3e97a99a641004f2197f4d1f8bb16a82ba1b98320241777d9ca42afbb552902f27f14093e11e4556e92215d3b2894889f8c849f513111654ae3823084c45b37a66f6cfc5cb46636182aa5bd81529a429ab19b510c7ea035c56c75d7cdae9cb480f66ff6a37753320ad618c3813d829ad6582490f27475127e75aa8909d6262bc7b1d33a961824da21fcec72c9eb559ad352abdcd134eb50f0dc3e25554dc40a04a1a0219200785aceb311e01c1d03c2b4164286870073b326f5c0dc56ad590ece2a746b9a438464e5d810e8e916ae01ddc9a30d760b54fabfb1be5dcd8ae18e6de123bda66983c6475f070bc8cb53bd35a9d7d4d252a92796949409abc4051e113d06244453642d5d76d3d2414fd0056c48b503cedc8c7350f6b322135504d78e63f7a3007d11a7bfbec2181c3e39e8f56165fe5c20c676cad4c47ca5cb13efa7cdba7946a7dd0d37"

// FuzzOpenClaims: arbitrary bytes never open, and never panic.
func FuzzOpenClaims(f *testing.F) {
	s, err := delivery.NewSealer(storeKey32)
	require.NoError(f, err)
	// good is fixed (not sealed here: each fuzz worker would draw another
	// nonce), so "only good opens" is the same claim in every process.
	good, _ := hex.DecodeString(goodSealedHex)
	if _, err := s.OpenClaims(connA, sessA, good, t0); err != nil {
		f.Fatal("the fixed sealed sample no longer opens: ", err)
	}
	f.Add(good, sessA)
	f.Add(good[:len(good)-1], sessA)
	f.Add([]byte{1}, sessA)
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, sealed []byte, session string) {
		c, err := s.OpenClaims(connA, session, sealed, t0)
		if err == nil {
			require.True(t, session == sessA && bytes.Equal(sealed, good), "forged bytes opened: %v", c)
		}
	})
}
