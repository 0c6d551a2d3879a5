package interop_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Directions.
const (
	libToMsgsec = "lib→msgsec"   // the library mints; msgsec verify checks
	msgsecToLib = "msgsec→lib"   // msgsec sign mints; the library checks
	keysToLib   = "keys→lib"     // msgsec keys new output (PEM, JWKS) loads in the library
	policyCheck = "policy check" // msgsec policy check on what the library exported
)

// The known gaps: what fails today by the current code's design, and what
// issue 13 changes. A row marked with one asserts today's failure (its
// error must contain gapErr); once the gap is closed the row fails, saying
// to remove its knownGap.
const ()

// noUsableKey was the whole answer, before issue 13, when every key of a
// JWKS was skipped ("… first fetch: no usable signature key"): it said
// neither which key nor why. The judge's own test keeps it as its example
// of an anchored pattern.
const noUsableKey = `: no usable signature key$`

// Refusals the rules require (not gaps: they stay).
const (
	refuseNone   = "RFC 8725 §3.1: an unsecured token (alg none) is never accepted; the algorithm is the key's"
	refuseJWEIV  = "RFC 7518 §5.3: A256GCM uses a 96-bit IV; python-jose sends 128 bits"
	refuseJWEErr = `\biv\b`
	// Not an RFC's rule but the policy's: secret_data: required means the
	// customer data must be where msgsec reads it.
	refuseMisplaced    = "secret_data: required: customer data sent as top-level claims instead of inside customer_secret_data is refused, saying so"
	refuseMisplacedErr = `customer_secret_data: missing, and the token carries other top-level claims`
	// An HMAC secret read one way on one side and another way on the other
	// is a different key; msgsec's refusal says how the policy reads it.
	refuseSecretMismatch = "both sides must use the same key bytes: the bank decoded the secret, the policy uses its text (or the reverse); " +
		"the refusal names the policy's encoding, never the secret"
	refuseTextErr    = `signature does not verify \(HMAC key hs-1: the secret is used as its text bytes \(encoding raw`
	refuseDecodedErr = `signature does not verify \(HMAC key hs-1: the secret is base64url-decoded \(encoding base64url\)`
)

// row is one case of the matrix: a library (or a bank-side snippet), an
// algorithm, a direction and a variant, with its expected outcome.
type row struct {
	lib, alg, dir, variant string
	id                     string // names the row's files: policy-<id>.yaml

	knownGap, gapErr   string // see the gap constants
	refusal, refuseErr string

	// How the token is minted: by the row's library (sign), by msgsec sign
	// (cliSign), or by a snippet.
	sign    *job
	cliSign *cliSign
	snippet *snippet

	// How it is checked: msgsec verify with policy; the row's library with
	// verify (the token filled in); or msgsec policy check on lint.
	policy      func(r *row) (policySpec, error)
	verify      *job
	lint        func(r *row) (policySpec, error)
	lintWant    jwksCounts // what policy check must report of the row's JWKS
	wantWarning bool       // msgsec verify must warn (and the data is not where msgsec reads it)

	want *claims

	// minted96, on a JWE row, checks the premise of its expectation on the
	// token itself: true, the library's IV is 96 bits; false, it is not.
	minted96 bool

	// The run.
	minted   *result
	token    string
	err      string // empty: the check passed
	skip     string // why the row could not run
	softSkip bool   // skip even under MSGSEC_REQUIRE_INTEGRATION (no toolchain to install)
}

type cliSign struct {
	policy  policySpec
	encrypt bool
	// key, kid and alg: msgsec sign --key FILE --kid ID [--alg ALG], a
	// private key instead of the policy's HMAC secret.
	key, kid, alg string
	// privateKey (with kid and alg): msgsec sign --private-key (the bank's key).
	privateKey string
}

func (r *row) name() string { return r.lib + "/" + r.alg + "/" + r.dir + "/" + r.variant }

// caps are what each library supports, so the matrix asks each for all of
// it and nothing else. INTEROP.md lists what each lacks.
var caps = map[string]struct {
	algs               []string
	jwks, jwe, ownKeys bool
}{
	"jose":         {algs: []string{"HS256", "RS256", "PS256", "ES256", "EdDSA"}, jwks: true, jwe: true, ownKeys: true},
	"jsonwebtoken": {algs: []string{"HS256", "RS256", "PS256", "ES256"}},
	"pyjwt":        {algs: []string{"HS256", "RS256", "PS256", "ES256", "EdDSA"}, jwks: true},
	"python-jose":  {algs: []string{"HS256", "RS256", "ES256"}, jwks: true, jwe: true},
	"jwcrypto":     {algs: []string{"HS256", "RS256", "PS256", "ES256", "EdDSA"}, jwks: true, jwe: true, ownKeys: true},
	"authlib":      {algs: []string{"HS256", "RS256", "PS256", "ES256", "EdDSA"}, jwks: true, jwe: true, ownKeys: true},
}

var libOrder = []string{"jose", "jsonwebtoken", "pyjwt", "python-jose", "jwcrypto", "authlib"}

// TestInterop mints and verifies CustomerSecretData tokens between msgsec
// (its CLI, as a bank developer and a chat operator use it) and real JWT
// libraries, and runs the bank-side snippets. Each library runs once per
// phase, with all of its jobs.
func TestInterop(t *testing.T) {
	start := time.Now()
	s := newSuite(t)
	rows := s.matrix()
	rows = append(rows, s.snippetRows()...)
	for i, r := range rows {
		r.id = strconv.Itoa(i + 1)
	}

	s.mintByLibraries(rows)
	s.mintByCLI(rows)
	s.mintBySnippets(rows)
	s.checkByCLI(rows)
	s.checkByLibraries(rows)

	for _, r := range rows {
		t.Run(r.name(), func(t *testing.T) {
			if r.skip != "" {
				if r.softSkip {
					t.Skip(r.skip)
				}
				skipOrFail(t, r.skip)
			}
			assert.Empty(t, r.judge(), "the row's verdict")
		})
	}
	t.Log("interop outcomes (" + time.Since(start).Round(100*time.Millisecond).String() + "):\n" + s.table(rows))
}

// judge compares the outcome with the expectation; "" means as expected.
func (r *row) judge() string {
	switch {
	case r.knownGap != "" && r.err == "":
		return "passes now: the gap is closed — remove knownGap (" + r.knownGap + ")" + then(r)
	case r.knownGap != "" && !matches(r.err, r.gapErr):
		return fmt.Sprintf("fails differently from its known gap (want an error matching %q): %s\nthe gap may be closed — remove or update knownGap (%s)%s",
			r.gapErr, r.err, r.knownGap, then(r))
	case r.knownGap != "":
		return ""
	case r.refusal != "" && r.err == "":
		return "accepted, but must be refused: " + r.refusal
	case r.refusal != "" && !matches(r.err, r.refuseErr):
		return fmt.Sprintf("refused, but not for the required reason (want an error matching %q): %s", r.refuseErr, r.err)
	case r.refusal != "":
		return ""
	case r.err != "":
		return r.err
	}
	return ""
}

func then(r *row) string {
	if r.refusal != "" {
		return "; the row then expects the refusal: " + r.refusal
	}
	return ""
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// matches reports whether err matches the pattern (a regular expression,
// case-insensitive). Patterns are precise enough that a better message
// for the same refusal (one that says why) no longer matches: the row
// then asks to be looked at again.
func matches(err, pattern string) bool {
	return regexp.MustCompile("(?i)" + pattern).MatchString(strings.TrimSpace(err))
}

// ---- the matrix ----

func (s *suite) matrix() []*row {
	var rows []*row
	n := 0
	add := func(r *row) {
		n++
		if r.want == nil {
			r.want = newClaims(n)
		}
		if r.sign != nil {
			r.sign.Claims, r.sign.Lifetime = r.want, lifetime
		}
		rows = append(rows, r)
	}
	hmac := func(enc string) policySpec {
		return policySpec{keys: []policyKey{{id: "hs-1", alg: "HS256", encoding: enc}}}
	}
	fixed := func(p policySpec) func(*row) (policySpec, error) {
		return func(*row) (policySpec, error) { return p, nil }
	}
	printed := &keySpec{Kind: "secret", Secret: s.secret}
	decoded := &keySpec{Kind: "secret_b64url", Secret: s.secret}

	for _, lib := range libOrder {
		c := caps[lib]
		// HS256, the library mints: the secret as the README passes it.
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret as printed, kid; policy default encoding",
			sign: &job{Op: "sign", Alg: "HS256", Key: printed, Kid: "hs-1"}, policy: fixed(hmac(""))})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret as printed, kid; policy encoding raw",
			sign: &job{Op: "sign", Alg: "HS256", Key: printed, Kid: "hs-1"}, policy: fixed(hmac("raw"))})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret as printed, no kid; policy encoding raw",
			sign: &job{Op: "sign", Alg: "HS256", Key: printed}, policy: fixed(hmac("raw"))})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret as printed, no kid; policy default encoding",
			sign: &job{Op: "sign", Alg: "HS256", Key: printed}, policy: fixed(hmac(""))})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret base64url-decoded, kid; policy encoding base64url",
			sign: &job{Op: "sign", Alg: "HS256", Key: decoded, Kid: "hs-1"}, policy: fixed(hmac("base64url"))})
		// The two ways to get it wrong: refused, and the reason says how
		// the policy reads the secret.
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret base64url-decoded, kid; policy default encoding (mismatch)",
			sign: &job{Op: "sign", Alg: "HS256", Key: decoded, Kid: "hs-1"}, policy: fixed(hmac("")),
			refusal: refuseSecretMismatch, refuseErr: refuseTextErr})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "secret as printed, kid; policy encoding base64url (mismatch)",
			sign: &job{Op: "sign", Alg: "HS256", Key: printed, Kid: "hs-1"}, policy: fixed(hmac("base64url")),
			refusal: refuseSecretMismatch, refuseErr: refuseDecodedErr})
		// HS256, msgsec sign mints; the library checks with its ordinary settings.
		add(&row{lib: lib, alg: "HS256", dir: msgsecToLib, variant: "library uses the secret as printed; policy default encoding",
			cliSign: &cliSign{policy: hmac("")}, verify: &job{Op: "verify", Alg: "HS256", Key: printed}})
		add(&row{lib: lib, alg: "HS256", dir: msgsecToLib, variant: "library uses the secret as printed; policy encoding raw",
			cliSign: &cliSign{policy: hmac("raw")}, verify: &job{Op: "verify", Alg: "HS256", Key: printed}})
		add(&row{lib: lib, alg: "HS256", dir: msgsecToLib, variant: "library base64url-decodes the secret; policy encoding base64url",
			cliSign: &cliSign{policy: hmac("base64url")}, verify: &job{Op: "verify", Alg: "HS256", Key: decoded}})

		// Asymmetric keys from msgsec keys new: the bank signs with the
		// private key PEM; the chat server names the public key PEM or
		// serves the JWKS.
		for _, alg := range c.algs {
			if alg == "HS256" {
				continue
			}
			k := s.keys[alg]
			priv := &keySpec{Kind: "pkcs8_file", Path: k.privPath}
			pem := fixed(policySpec{keys: []policyKey{{id: k.Kid, alg: alg, pubPath: k.pubPath}}})
			url := fixed(policySpec{jwksURL: k.jwksURL})
			add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "keys new private key, kid; policy public_key PEM",
				sign: &job{Op: "sign", Alg: alg, Key: priv, Kid: k.Kid}, policy: pem})
			add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "keys new private key, no kid; policy public_key PEM",
				sign: &job{Op: "sign", Alg: alg, Key: priv}, policy: pem})
			add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "keys new private key, kid; policy jwks_url",
				sign: &job{Op: "sign", Alg: alg, Key: priv, Kid: k.Kid}, policy: url})
			add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "keys new private key, no kid; policy jwks_url (one key)",
				sign: &job{Op: "sign", Alg: alg, Key: priv}, policy: url})
			if lib == "jose" && alg == "EdDSA" {
				add(&row{lib: lib, alg: "Ed25519", dir: libToMsgsec, variant: "keys new EdDSA key, alg Ed25519, kid; policy public_key PEM",
					sign: &job{Op: "sign", Alg: "Ed25519", Key: priv, Kid: k.Kid}, policy: pem})
			}
			// msgsec sign --key mints with the same private key; the
			// library verifies with the public key PEM.
			// (--alg only for PS256: an RSA key signs RS256 by default.)
			pemSpec := policySpec{keys: []policyKey{{id: k.Kid, alg: alg, pubPath: k.pubPath}}}
			signAlg := ""
			if alg == "PS256" {
				signAlg = alg
			}
			add(&row{lib: lib, alg: alg, dir: msgsecToLib, variant: "msgsec sign --key (keys new private key); library verifies with the public key PEM",
				cliSign: &cliSign{policy: pemSpec, key: k.privPath, kid: k.Kid, alg: signAlg},
				verify:  &job{Op: "verify", Alg: alg, Key: &keySpec{Kind: "spki_file", Path: k.pubPath}}})
			if lib == "jose" && alg == "EdDSA" {
				add(&row{lib: lib, alg: "Ed25519", dir: msgsecToLib, variant: "msgsec sign --key --alg Ed25519; library verifies with the public key PEM",
					cliSign: &cliSign{policy: pemSpec, key: k.privPath, kid: k.Kid, alg: "Ed25519"},
					verify:  &job{Op: "verify", Alg: "Ed25519", Key: &keySpec{Kind: "spki_file", Path: k.pubPath}}})
			}
			// msgsec keys new output loads in the library: the token the
			// library signed with msgsec's private key verifies with
			// msgsec's public key PEM and JWKS (from a file and by URL).
			add(&row{lib: lib, alg: alg, dir: keysToLib, variant: "keys new public key PEM",
				sign:   &job{Op: "sign", Alg: alg, Key: priv, Kid: k.Kid},
				verify: &job{Op: "verify", Alg: alg, Key: &keySpec{Kind: "spki_file", Path: k.pubPath}}})
			// msgsec sign --private-key mints; the library verifies with
			// the public key as it takes one (PEM, and JWKS by URL).
			signed := &cliSign{policy: policySpec{keys: []policyKey{{id: k.Kid, alg: alg, pubPath: k.pubPath}}},
				privateKey: k.privPath, kid: k.Kid, alg: alg}
			add(&row{lib: lib, alg: alg, dir: msgsecToLib, variant: "msgsec sign --private-key; library verifies with the public key PEM",
				cliSign: signed, verify: &job{Op: "verify", Alg: alg, Key: &keySpec{Kind: "spki_file", Path: k.pubPath}}})
			if c.jwks {
				add(&row{lib: lib, alg: alg, dir: msgsecToLib, variant: "msgsec sign --private-key; library verifies with the JWKS by URL",
					cliSign: signed, verify: &job{Op: "verify", Alg: alg, Key: &keySpec{Kind: "jwks_url", URL: k.jwksURL}}})
			}
			if c.jwks {
				add(&row{lib: lib, alg: alg, dir: keysToLib, variant: "keys new JWKS file",
					sign:   &job{Op: "sign", Alg: alg, Key: priv, Kid: k.Kid},
					verify: &job{Op: "verify", Alg: alg, Key: &keySpec{Kind: "jwks_file", Path: k.jwksPath}}})
				add(&row{lib: lib, alg: alg, dir: keysToLib, variant: "keys new JWKS by URL",
					sign:   &job{Op: "sign", Alg: alg, Key: priv, Kid: k.Kid},
					verify: &job{Op: "verify", Alg: alg, Key: &keySpec{Kind: "jwks_url", URL: k.jwksURL}}})
			}
		}

		// The bank's own keys, made and exported by the library.
		if c.ownKeys {
			for _, alg := range c.algs {
				if alg == "HS256" {
					continue
				}
				kid := lib + "-" + strings.ToLower(alg)
				gen := func(mode string) *job {
					return &job{Op: "sign", Alg: alg, Key: &keySpec{Kind: "generate", JWK: mode}, Kid: kid}
				}
				add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "own key, SPKI PEM export, kid; policy public_key PEM",
					sign: gen("kid-alg"), policy: s.ownPEMPolicy(alg)})
				add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "own key, JWK export + kid + alg; policy jwks_url",
					sign: gen("kid-alg"), policy: s.ownJWKSPolicy()})
				// Without alg, an RSA key verifies RS256 and PS256 (the
				// token picks the padding, never the key type).
				add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "own key, JWK export + kid (no alg); policy jwks_url",
					sign: gen("kid"), policy: s.ownJWKSPolicy()})
				// As exported: jose and jwcrypto write neither kid nor alg
				// (a one-key JWKS: its key serves tokens without kid);
				// Authlib adds a thumbprint kid but no alg.
				add(&row{lib: lib, alg: alg, dir: libToMsgsec, variant: "own key, JWK exactly as exported; policy jwks_url",
					sign: gen("as-exported"), policy: s.ownJWKSPolicy()})
				if alg == "RS256" {
					add(&row{lib: lib, alg: alg, dir: policyCheck, variant: "own key, JWK exactly as exported; policy jwks_url",
						sign: gen("as-exported"), lint: s.ownJWKSPolicy(), lintWant: jwksCounts{keys: 1}})
					// Two such keys in one JWKS: without kid, neither can
					// be named, and policy check says so for each.
					twice := jwksCounts{skipped: 2, unavailable: "no usable signature key"}
					if lib == "authlib" {
						twice = jwksCounts{unavailable: "duplicate kid"} // its thumbprint kid, twice: refused
					}
					add(&row{lib: lib, alg: alg, dir: policyCheck, variant: "own key, JWK exactly as exported, twice in one JWKS",
						sign: gen("as-exported"), lint: s.ownJWKSPolicyTwice(), lintWant: twice})
				}
			}
			if lib == "jose" {
				kid := "jose-ed25519"
				add(&row{lib: lib, alg: "Ed25519", dir: libToMsgsec, variant: "own key, JWK export + kid + alg Ed25519; policy jwks_url",
					sign:   &job{Op: "sign", Alg: "Ed25519", Key: &keySpec{Kind: "generate", JWK: "kid-alg"}, Kid: kid},
					policy: s.ownJWKSPolicy()})
			}
		}

		// JWE (dir + A256GCM) around an HS256 token, both ways.
		if c.jwe {
			jwe := &jweSpec{Key: s.jweKey, Kid: "jwe-1"}
			raw := hmac("raw")
			raw.decryptionKey = true
			r := &row{lib: lib, alg: "HS256+JWE", dir: libToMsgsec, variant: "dir A256GCM nested JWT; policy decryption key",
				sign: &job{Op: "sign", Alg: "HS256", Key: printed, Kid: "hs-1", JWE: jwe}, policy: fixed(raw)}
			r.minted96 = lib != "python-jose"
			if !r.minted96 {
				r.refusal, r.refuseErr = refuseJWEIV, refuseJWEErr
			}
			add(r)
			add(&row{lib: lib, alg: "HS256+JWE", dir: msgsecToLib, variant: "msgsec sign --encrypt; library decrypts and verifies",
				cliSign: &cliSign{policy: raw, encrypt: true},
				verify:  &job{Op: "verify", Alg: "HS256", Key: printed, JWE: jwe}})
		}
	}

	// Variants that one or two libraries produce by their ordinary use.
	raw := fixed(hmac("raw"))
	printedJob := func(mod func(*job)) *job {
		j := &job{Op: "sign", Alg: "HS256", Key: printed, Kid: "hs-1"}
		mod(j)
		return j
	}
	for _, lib := range []string{"jsonwebtoken", "pyjwt"} {
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "fractional iat/exp (now in seconds as a float); policy encoding raw",
			sign: printedJob(func(j *job) { j.FractionalDates = true }), policy: raw})
	}
	optional := hmac("raw")
	optional.secretDataOptional = true
	typed := hmac("raw")
	typed.tokenType = "secretdata+jwt"
	for _, lib := range []string{"jose", "pyjwt"} {
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "typ application/jwt; policy encoding raw",
			sign: printedJob(func(j *job) { j.Typ = "application/jwt" }), policy: raw})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "typ secretdata+jwt; policy token.type secretdata+jwt",
			sign: printedJob(func(j *job) { j.Typ = "secretdata+jwt" }), policy: fixed(typed)})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "typ JWT; policy token.type secretdata+jwt",
			sign: printedJob(func(j *job) { j.Typ = "JWT" }), policy: fixed(typed),
			refusal: "RFC 8725 §3.11: a connection that requires an explicit typ refuses a token of another type", refuseErr: `typ: not the type this verifier requires`})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "customer data as top-level claims; policy secret_data optional",
			sign: printedJob(func(j *job) { j.DataTopLevel = true }), policy: fixed(optional), wantWarning: true})
		add(&row{lib: lib, alg: "HS256", dir: libToMsgsec, variant: "customer data as top-level claims; policy secret_data required",
			sign: printedJob(func(j *job) { j.DataTopLevel = true }), policy: raw,
			refusal: refuseMisplaced, refuseErr: refuseMisplacedErr})
	}
	for _, lib := range []string{"jose", "jsonwebtoken", "pyjwt"} {
		add(&row{lib: lib, alg: "none", dir: libToMsgsec, variant: "unsecured token (alg none); policy encoding raw",
			sign: &job{Op: "sign", Alg: "none", Key: &keySpec{Kind: "none"}, Kid: "hs-1"}, policy: raw,
			refusal: refuseNone, refuseErr: "not the algorithm bound to the key"})
	}
	return rows
}

// newClaims are row n's claims: unique subject, customer and jti.
func newClaims(n int) *claims {
	return &claims{
		Iss: issuer, Aud: connectionID, Sub: "customer-" + strconv.Itoa(n), Jti: randomID(),
		SecretData: secretData{CustomerID: "C-" + strconv.Itoa(1000+n), AuthenticationStatus: "authenticated"},
	}
}

// ownPEMPolicy names the public key the library exported as SPKI PEM.
func (s *suite) ownPEMPolicy(alg string) func(*row) (policySpec, error) {
	return func(r *row) (policySpec, error) {
		if r.minted.PublicPEM == "" {
			return policySpec{}, fmt.Errorf("the library exported no public key PEM")
		}
		kid, err := jwkKid(r.minted.JWK)
		if err != nil {
			return policySpec{}, err
		}
		path := filepath.Join(s.dir, "own-"+r.id+".pub")
		if err := os.WriteFile(path, []byte(r.minted.PublicPEM), 0o600); err != nil {
			return policySpec{}, err
		}
		return policySpec{keys: []policyKey{{id: kid, alg: alg, pubPath: path}}}, nil
	}
}

// ownJWKSPolicyTwice serves the JWK the library exported twice, in one
// JWKS (a rotation published without kids).
func (s *suite) ownJWKSPolicyTwice() func(*row) (policySpec, error) {
	return func(r *row) (policySpec, error) {
		if len(r.minted.JWK) == 0 {
			return policySpec{}, fmt.Errorf("the library exported no JWK")
		}
		doc, err := json.Marshal(map[string][]json.RawMessage{"keys": {r.minted.JWK, r.minted.JWK}})
		if err != nil {
			return policySpec{}, err
		}
		return policySpec{jwksURL: s.serveDoc("own-"+r.id, doc)}, nil
	}
}

// ownJWKSPolicy serves the JWK the library exported, in a one-key JWKS.
func (s *suite) ownJWKSPolicy() func(*row) (policySpec, error) {
	return func(r *row) (policySpec, error) {
		if len(r.minted.JWK) == 0 {
			return policySpec{}, fmt.Errorf("the library exported no JWK")
		}
		doc, err := json.Marshal(map[string][]json.RawMessage{"keys": {r.minted.JWK}})
		if err != nil {
			return policySpec{}, err
		}
		return policySpec{jwksURL: s.serveDoc("own-"+r.id, doc)}, nil
	}
}

func jwkKid(b json.RawMessage) (string, error) {
	var k struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &k); err != nil || k.Kid == "" {
		return "", fmt.Errorf("the exported JWK has no kid")
	}
	return k.Kid, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// ---- phases ----

// mintByLibraries runs every library's sign jobs, one process per library.
func (s *suite) mintByLibraries(rows []*row) {
	s.byLibrary(rows, func(r *row) *job {
		return r.sign
	}, func(r *row, res *result) {
		r.minted = res
		if !res.OK {
			r.err = "the library did not mint: " + res.Error
			return
		}
		r.token = res.Token
		if r.sign.JWE != nil {
			if bits := jweIVBits(r.token); (bits == 96) != r.minted96 {
				r.err = fmt.Sprintf("the library's JWE IV is %d bits, not as this row expects", bits)
			}
		}
	})
}

// jweIVBits is the length of a compact JWE's IV (its third segment).
func jweIVBits(token string) int {
	seg := strings.Split(token, ".")
	if len(seg) != 5 {
		return 0
	}
	iv, err := base64.RawURLEncoding.DecodeString(seg[2])
	if err != nil {
		return 0
	}
	return 8 * len(iv)
}

// checkByLibraries runs every library's verify jobs on the minted tokens.
func (s *suite) checkByLibraries(rows []*row) {
	s.byLibrary(rows, func(r *row) *job {
		if r.verify == nil || r.token == "" {
			return nil
		}
		r.verify.Token = r.token
		r.verify.Expect = &expect{Iss: issuer, Aud: connectionID}
		return r.verify
	}, func(r *row, res *result) {
		if !res.OK {
			r.err = "the library refused the token: " + res.Error
			return
		}
		r.err = checkClaims(res.Claims, r.want, true)
	})
}

// byLibrary batches one job per row (those pick returns) by library and
// hands each answer to done.
func (s *suite) byLibrary(rows []*row, pick func(*row) *job, done func(*row, *result)) {
	batches := map[string][]*row{}
	for _, r := range rows {
		if r.skip != "" || r.err != "" {
			continue
		}
		l := s.libs[r.lib]
		if l == nil {
			continue
		}
		j := pick(r)
		if j == nil {
			continue
		}
		if l.missing != "" {
			r.skip = l.missing
			continue
		}
		j.ID = strconv.Itoa(len(batches[r.lib]))
		batches[r.lib] = append(batches[r.lib], r)
	}
	names := make([]string, 0, len(batches))
	for name := range batches {
		names = append(names, name)
	}
	parallel(len(names), len(names), func(i int) {
		lib := s.libs[names[i]]
		brows := batches[names[i]]
		jobs := make([]*job, len(brows))
		for k, r := range brows {
			jobs[k] = pick(r)
		}
		res, err := s.runBatch(lib, jobs)
		for k, r := range brows {
			if err != nil {
				r.err = lib.name + " driver: " + err.Error()
				continue
			}
			done(r, res[jobs[k].ID])
		}
	})
}

// mintByCLI runs msgsec sign for the rows msgsec mints.
func (s *suite) mintByCLI(rows []*row) {
	var todo []*row
	for _, r := range rows {
		if r.cliSign != nil && r.skip == "" {
			if l := s.libs[r.lib]; l != nil && l.missing != "" {
				r.skip = l.missing
				continue
			}
			todo = append(todo, r)
		}
	}
	parallel(len(todo), 4, func(i int) {
		r := todo[i]
		data, _ := json.Marshal(r.want.SecretData)
		args := []string{"sign", "--policy", s.writePolicy(r.id, r.cliSign.policy),
			"--connection", connectionID, "--subject", r.want.Sub, "--data", string(data)}
		if r.cliSign.encrypt {
			args = append(args, "--encrypt")
		}
		if r.cliSign.key != "" {
			args = append(args, "--key", r.cliSign.key, "--kid", r.cliSign.kid)
			if r.cliSign.alg != "" {
				args = append(args, "--alg", r.cliSign.alg)
			}
		}
		if cs := r.cliSign; cs.privateKey != "" {
			args = append(args, "--private-key", cs.privateKey, "--kid", cs.kid)
			if strings.HasPrefix(cs.alg, "RS") || strings.HasPrefix(cs.alg, "PS") {
				args = append(args, "--alg", cs.alg) // an RSA key fits both
			}
		}
		res := s.runCLI(nil, args...)
		if res.code != 0 {
			r.err = fmt.Sprintf("msgsec sign: exit %d: %s", res.code, lastLines(res.stderr, 2))
			return
		}
		r.token = strings.TrimSpace(res.stdout)
	})
}

// checkByCLI runs msgsec verify (or policy check) for the rows msgsec checks.
func (s *suite) checkByCLI(rows []*row) {
	var todo []*row
	for _, r := range rows {
		if r.err != "" || r.skip != "" {
			continue
		}
		if (r.policy != nil && r.token != "") || (r.lint != nil && r.minted != nil) {
			todo = append(todo, r)
		}
	}
	parallel(len(todo), 4, func(i int) {
		r := todo[i]
		if r.lint != nil {
			r.err = s.lintOne(r)
			return
		}
		r.err = s.verifyOne(r)
	})
}

// verifyReport is msgsec verify --json's answer.
type verifyReport struct {
	Valid  bool           `json:"valid"`
	Reason string         `json:"reason"`
	Error  string         `json:"error"`
	Claims map[string]any `json:"claims"`
}

func (s *suite) verifyOne(r *row) string {
	p, err := r.policy(r)
	if err != nil {
		return "policy: " + err.Error()
	}
	path := s.writePolicy(r.id, p)
	res := s.runCLI([]byte(r.token), "verify", "--json", "--show-secret-data", "--policy", path, "--connection", connectionID, "-")
	if res.code == 2 {
		return "msgsec verify: exit 2: " + lastLines(res.stderr, 2)
	}
	var rep verifyReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		return fmt.Sprintf("msgsec verify: exit %d, not JSON: %v: %s", res.code, err, res.stdout+res.stderr)
	}
	if !rep.Valid {
		return "msgsec verify: " + rep.Reason + ": " + rep.Error
	}
	if r.wantWarning {
		switch {
		case !containsFold(res.stderr, "warning") || !strings.Contains(res.stderr, `"customer_id"`):
			return "msgsec verify: valid, with customer_secret_data " + jsonString(rep.Claims["customer_secret_data"]) + " and no warning naming customer_id"
		case strings.Contains(res.stdout+res.stderr, r.want.SecretData.CustomerID):
			return "msgsec verify: the output repeats the customer's data"
		case len(jsonString(rep.Claims["customer_secret_data"])) > 2:
			return "msgsec verify: customer_secret_data is not empty: " + jsonString(rep.Claims["customer_secret_data"])
		}
		return ""
	}
	return checkClaims(rep.Claims, r.want, false)
}

// jwksCounts is what policy check must report of a connection's JWKS: how
// many keys it would verify with, how many it skips (each a
// jwks-skipped-key warning), and, when not empty, what the
// jwks-unavailable warning says.
type jwksCounts struct {
	keys, skipped int
	unavailable   string
}

// lintOne runs msgsec policy check on a policy naming what the library
// exported: it must fetch the JWKS and report its keys, and each key it
// would skip.
func (s *suite) lintOne(r *row) string {
	p, err := r.lint(r)
	if err != nil {
		return "policy: " + err.Error()
	}
	res := s.runCLI(nil, "policy", "check", "--json", s.writePolicy(r.id, p))
	var rep struct {
		Errors   []json.RawMessage `json:"errors"`
		Warnings []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"warnings"`
		JWKS []struct {
			Keys    []json.RawMessage `json:"keys"`
			Skipped []json.RawMessage `json:"skipped"`
		} `json:"jwks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		return fmt.Sprintf("msgsec policy check: exit %d, not JSON: %v: %s", res.code, err, res.stdout+res.stderr)
	}
	if len(rep.Errors) > 0 || len(rep.JWKS) != 1 {
		return fmt.Sprintf("msgsec policy check: %d errors, %d JWKS reported (want 0 and 1): %s", len(rep.Errors), len(rep.JWKS), res.stdout)
	}
	got := jwksCounts{keys: len(rep.JWKS[0].Keys), skipped: len(rep.JWKS[0].Skipped)}
	skipWarnings := 0
	for _, w := range rep.Warnings {
		switch w.Code {
		case "jwks-skipped-key":
			skipWarnings++
		case "jwks-unavailable":
			got.unavailable = w.Message
		}
	}
	want := r.lintWant
	switch {
	case got.keys != want.keys || got.skipped != want.skipped || skipWarnings != want.skipped:
		return fmt.Sprintf("msgsec policy check: %d keys, %d skipped, %d jwks-skipped-key warnings; want %d, %d, %d: %s",
			got.keys, got.skipped, skipWarnings, want.keys, want.skipped, want.skipped, res.stdout)
	case want.unavailable == "" && got.unavailable != "":
		return "msgsec policy check: unexpected jwks-unavailable: " + got.unavailable
	case want.unavailable != "" && !containsFold(got.unavailable, want.unavailable):
		return fmt.Sprintf("msgsec policy check: want a jwks-unavailable warning saying %q, got %q", want.unavailable, got.unavailable)
	}
	return ""
}

// checkClaims compares the claims a verifier returned with the ones minted.
func checkClaims(got map[string]any, want *claims, registered bool) string {
	sd, _ := got["customer_secret_data"].(map[string]any)
	switch {
	case sd == nil:
		return "verified, but without customer_secret_data"
	case sd["customer_id"] != want.SecretData.CustomerID:
		return fmt.Sprintf("customer_secret_data.customer_id: got %v, want %s", sd["customer_id"], want.SecretData.CustomerID)
	case sd["authentication_status"] != want.SecretData.AuthenticationStatus:
		return fmt.Sprintf("customer_secret_data.authentication_status: got %v", sd["authentication_status"])
	case got["sub"] != want.Sub:
		return fmt.Sprintf("sub: got %v, want %s", got["sub"], want.Sub)
	case registered && (got["iss"] != issuer || got["aud"] != connectionID):
		return fmt.Sprintf("iss/aud: got %v/%v", got["iss"], got["aud"])
	}
	return ""
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- the outcome table ----

// table renders every row's outcome: what INTEROP.md is written from.
func (s *suite) table(rows []*row) string {
	var b strings.Builder
	b.WriteString("| library | version | alg | direction | variant | outcome |\n|---|---|---|---|---|---|\n")
	counts := map[string]int{}
	for _, r := range rows {
		version := "-"
		if l := s.libs[r.lib]; l != nil {
			version = l.version
		} else if r.snippet != nil {
			version = r.snippet.version
		}
		outcome := r.outcome()
		counts[strings.SplitN(outcome, ":", 2)[0]]++
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.lib, version, r.alg, r.dir, r.variant, outcome)
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("\ntotals:")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %d;", k, counts[k])
	}
	return b.String()
}

func (r *row) outcome() string {
	msg := r.judge()
	switch {
	case r.skip != "":
		return "skipped: " + r.skip
	case msg != "":
		return "FAIL: " + oneLine(msg)
	case r.knownGap != "":
		return "known gap: " + r.knownGap + " — now: " + oneLine(r.err)
	case r.refusal != "":
		return "refused as required: " + r.refusal
	}
	return "pass"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// ---- bank-side snippets ----

// snippet is one of interop/snippets: a few lines that sign an HS256
// CustomerSecretData token with the secret as `msgsec secret new` printed
// it (UPLUS_JWT_SECRET) and print the token.
type snippet struct {
	name    string // the file in interop/snippets
	version string
	// run returns the command for the snippet, or why it cannot run here
	// (and whether that skip is soft: no toolchain the suite installs).
	run func(s *suite, dir string) (*exec.Cmd, string, bool)
}

func (s *suite) snippetRows() []*row {
	var rows []*row
	n := 900
	for _, sn := range s.snippets() {
		for _, v := range []struct {
			variant       string
			enc           string
			gap, gapError string
		}{
			{"secret as printed; policy default encoding", "", "", ""},
			{"secret as printed; policy encoding raw", "raw", "", ""},
		} {
			n++
			p := policySpec{keys: []policyKey{{id: "uplus-2026-11", alg: "HS256", encoding: v.enc}}}
			rows = append(rows, &row{lib: "snippet " + sn.name, alg: "HS256", dir: libToMsgsec, variant: v.variant,
				snippet: sn, policy: func(*row) (policySpec, error) { return p, nil },
				knownGap: v.gap, gapErr: v.gapError, want: snippetClaims()})
		}
	}
	return rows
}

// snippetClaims are what every snippet signs (fixed, as a README shows).
func snippetClaims() *claims {
	return &claims{Iss: issuer, Aud: connectionID, Sub: "customer-42",
		SecretData: secretData{CustomerID: "C-1001", AuthenticationStatus: "authenticated"}}
}

// mintBySnippets runs each snippet once and gives its token to its rows.
func (s *suite) mintBySnippets(rows []*row) {
	type out struct {
		token, err, skip string
		soft             bool
	}
	results := map[*snippet]*out{}
	for _, r := range rows {
		if r.snippet != nil && results[r.snippet] == nil {
			results[r.snippet] = &out{}
		}
	}
	list := make([]*snippet, 0, len(results))
	for sn := range results {
		list = append(list, sn)
	}
	parallel(len(list), len(list), func(i int) {
		sn, o := list[i], results[list[i]]
		dir := filepath.Join(s.dir, "snippet-"+safeName(sn.name))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			o.err = err.Error()
			return
		}
		cmd, skip, soft := sn.run(s, dir)
		if cmd == nil {
			o.skip, o.soft = skip, soft
			return
		}
		cmd.Env = append(slices.Clip(s.env), "UPLUS_JWT_SECRET="+s.secret)
		outb, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			o.err = fmt.Sprintf("snippet %s: %v: %s", sn.name, err, lastLines(stderr, 3))
			return
		}
		o.token = strings.TrimSpace(string(outb))
	})
	for _, r := range rows {
		if o := results[r.snippet]; r.snippet != nil {
			r.token, r.skip, r.softSkip = o.token, o.skip, o.soft
			if o.err != "" {
				r.err = o.err
			}
		}
	}
}
