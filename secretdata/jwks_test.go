package secretdata_test

import (
	"context"
	"crypto"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

// jwkJSON renders raw as a JWK with the given members set.
func jwkJSON(t *testing.T, raw any, members map[string]string) string {
	t.Helper()
	k, err := jwk.FromRaw(raw)
	require.NoError(t, err)
	for name, v := range members {
		require.NoError(t, k.Set(name, v))
	}
	b, err := json.Marshal(k)
	require.NoError(t, err)
	return string(b)
}

func jwks(keys ...string) []byte { return []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`) }

func TestParseJWKS(t *testing.T) {
	ec, ed, rs := ecKey(t), edKey(t), rsaOnce()
	p384 := jwkJSON(t, mustP384(t).Public(), map[string]string{"kid": "p384"})
	ecPub := jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"})
	edPub := jwkJSON(t, ed.Public(), map[string]string{"kid": "ed1"})
	rsPub := jwkJSON(t, rs.Public(), map[string]string{"kid": "rs1", "alg": "RS256"})
	psPub := jwkJSON(t, rs.Public(), map[string]string{"kid": "ps1", "alg": "PS256"})
	rsNoAlg := jwkJSON(t, rs.Public(), map[string]string{"kid": "rs2"})
	ecEnc := jwkJSON(t, ec.Public(), map[string]string{"kid": "ec-enc", "use": "enc"})
	ecNoKid := jwkJSON(t, ec.Public(), nil)
	ecWrongAlg := jwkJSON(t, ec.Public(), map[string]string{"kid": "ec2", "alg": "RS256"})

	tests := []struct {
		name        string
		doc         []byte
		wantIDs     map[string]secretdata.Algorithm
		wantSkipped []string // "field kid: reason"
		wantErr     bool
	}{
		{"ec and ed25519 infer their algorithm", jwks(ecPub, edPub), map[string]secretdata.Algorithm{"ec1": secretdata.ES256, "ed1": secretdata.EdDSA}, nil, false},
		{"rsa takes its alg member", jwks(rsPub, psPub), map[string]secretdata.Algorithm{"rs1": secretdata.RS256, "ps1": secretdata.PS256}, nil, false},
		{"rsa without alg is kept (RS256 or PS256)", jwks(rsNoAlg), map[string]secretdata.Algorithm{"rs2": secretdata.RS256}, nil, false},
		{"unusable keys are skipped, each with its reason", jwks(ecPub, rsNoAlg, ecEnc, p384, ecNoKid, ecWrongAlg),
			map[string]secretdata.Algorithm{"ec1": secretdata.ES256, "rs2": secretdata.RS256}, []string{
				`keys[2] ec-enc: use "enc": not a signature key`,
				`keys[3] p384: algorithm needs an ecdsa p-256 key`,
				`keys[4] : no kid, and the set has several keys: no token can name it`,
				`keys[5] ec2: algorithm needs an rsa key`,
			}, false},
		{"private key refused", jwks(ecPub, jwkJSON(t, ec, map[string]string{"kid": "priv"})), nil, nil, true},
		{"symmetric key refused", jwks(ecPub, `{"kty":"oct","kid":"s","k":"`+b64(string(testSecret))+`"}`), nil, nil, true},
		{"duplicate kid refused", jwks(ecPub, jwkJSON(t, ecKey(t).Public(), map[string]string{"kid": "ec1"})), nil, nil, true},
		{"no usable key", jwks(ecEnc), nil, []string{`keys[0] ec-enc: use "enc": not a signature key`}, true},
		{"empty set", jwks(), nil, nil, true},
		{"not json", []byte(`{"keys":[`), nil, nil, true},
		{"oversized", []byte(`{"keys":[],"x":"` + strings.Repeat("a", 1<<20) + `"}`), nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, skipped, err := secretdata.ParseJWKS(tc.doc)
			var gotSkipped []string
			for _, p := range skipped {
				require.ErrorIs(t, p, secretdata.ErrConfig)
				gotSkipped = append(gotSkipped, p.Field+" "+p.Value+": "+p.Reason)
			}
			require.Equal(t, tc.wantSkipped, gotSkipped)
			if tc.wantErr {
				require.ErrorIs(t, err, secretdata.ErrConfig)
				for _, p := range skipped {
					require.Contains(t, err.Error(), p.Reason, "the error names every skipped key too")
				}
				return
			}
			require.NoError(t, err)
			got := map[string]secretdata.Algorithm{}
			for _, k := range keys {
				got[k.ID()] = k.Algorithm()
				require.False(t, k.CanSign())
			}
			require.Equal(t, tc.wantIDs, got)
		})
	}
}

func TestVerifyWithJWKSKeys(t *testing.T) {
	ec := ecKey(t)
	signKey, err := secretdata.NewPrivateKey("ec1", secretdata.ES256, ec)
	require.NoError(t, err)
	keys, _, err := secretdata.ParseJWKS(jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"})))
	require.NoError(t, err)
	token, err := newSigner(t, signKey, nil).Sign(sampleClaims())
	require.NoError(t, err)
	_, err = newVerifier(t, nil, keys...).Verify(ctx, token)
	require.NoError(t, err)
}

// jwksServer serves whatever document is stored in doc.
func jwksServer(t *testing.T, doc *atomic.Value, hits *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b := doc.Load().([]byte)
		if b == nil {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRemoteKeySetRotation(t *testing.T) {
	oldEC, newEC := ecKey(t), ecKey(t)
	var doc atomic.Value
	var hits atomic.Int32
	doc.Store(jwks(jwkJSON(t, oldEC.Public(), map[string]string{"kid": "old"})))
	srv := jwksServer(t, &doc, &hits)

	rks, err := secretdata.NewRemoteKeySetWithMinInterval(context.Background(), secretdata.RemoteKeySetConfig{
		URL: srv.URL, DangerouslyAllowHTTP: true, RefreshInterval: time.Hour,
	}, 50*time.Millisecond)
	require.NoError(t, err)
	defer rks.Close()

	// Real clock here: the background refresh and token times must agree.
	v, err := secretdata.NewVerifier(secretdata.VerifierConfig{KeySet: rks, Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	sign := func(priv crypto.Signer, kid string) string {
		k, err := secretdata.NewPrivateKey(kid, secretdata.ES256, priv)
		require.NoError(t, err)
		s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience})
		require.NoError(t, err)
		tok, err := s.Sign(secretdata.Claims{})
		require.NoError(t, err)
		return tok
	}
	_, err = v.Verify(ctx, sign(oldEC, "old"))
	require.NoError(t, err)

	// The bank rotates: the new kid is unknown until the set is refetched,
	// which the unknown kid itself triggers.
	doc.Store(jwks(jwkJSON(t, newEC.Public(), map[string]string{"kid": "new"})))
	newToken := sign(newEC, "new")
	require.Eventually(t, func() bool {
		_, err := v.Verify(ctx, newToken)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)

	// The old key is gone from the set now.
	_, err = v.Verify(ctx, sign(oldEC, "old"))
	require.ErrorIs(t, err, secretdata.ErrUnknownKey)

	// A failing refresh keeps the last good set.
	doc.Store([]byte(nil))
	_, err = rks.Refresh(ctx)
	require.ErrorIs(t, err, secretdata.ErrConfig)
	_, err = v.Verify(ctx, sign(newEC, "new"))
	require.NoError(t, err)

	// Forged kids do not hammer the JWKS server: refreshes are rate-limited.
	forged := make([]string, 200)
	for i := range forged {
		forged[i] = sign(newEC, "forged")
	}
	before, start := hits.Load(), time.Now()
	for _, tok := range forged {
		_, _ = v.Verify(ctx, tok)
	}
	time.Sleep(100 * time.Millisecond)
	allowed := int32(time.Since(start)/(50*time.Millisecond)) + 2
	require.LessOrEqual(t, hits.Load()-before, allowed)
	require.Less(t, allowed, int32(len(forged)), "the test must be able to tell")
}

func TestRemoteKeySetRefusals(t *testing.T) {
	var doc atomic.Value
	var hits atomic.Int32
	doc.Store([]byte(nil))
	srv := jwksServer(t, &doc, &hits)
	tests := []struct {
		name string
		cfg  secretdata.RemoteKeySetConfig
		want error
	}{
		{"plain http without opt-in", secretdata.RemoteKeySetConfig{URL: srv.URL}, secretdata.ErrConfig},
		{"not a url", secretdata.RemoteKeySetConfig{URL: "jwks.json"}, secretdata.ErrConfig},
		{"refresh interval below a second", secretdata.RemoteKeySetConfig{URL: srv.URL, DangerouslyAllowHTTP: true, RefreshInterval: time.Millisecond}, secretdata.ErrConfig},
		{"server error at start", secretdata.RemoteKeySetConfig{URL: srv.URL, DangerouslyAllowHTTP: true}, secretdata.ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secretdata.NewRemoteKeySet(context.Background(), tc.cfg)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// ParseJWKS names every refused entry; NewRemoteKeySet every problem of
// its configuration.
func TestJWKSReportsEveryProblem(t *testing.T) {
	ec := ecKey(t)
	ecPub := jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"})
	_, _, err := secretdata.ParseJWKS(jwks(
		jwkJSON(t, ec, map[string]string{"kid": "priv"}),
		ecPub,
		`{"kty":"oct","kid":"s","k":"`+b64(string(testSecret))+`"}`,
		jwkJSON(t, ecKey(t).Public(), map[string]string{"kid": "ec1"}),
	))
	ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"keys[0]", "keys[2]", "keys[3]"}, string(testSecret), ec.D.String())
	require.Equal(t, cfgerr.Redacted, ps[0].Value)
	require.Equal(t, "ec1", ps[2].Value)

	_, err = secretdata.NewRemoteKeySet(context.Background(), secretdata.RemoteKeySetConfig{
		URL: "http://jwks.example/keys", RefreshInterval: time.Millisecond,
	})
	testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"URL", "RefreshInterval"})
}
