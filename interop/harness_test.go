package interop_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
)

// The connection every policy of the suite describes, as in
// examples/policies/uplusbank.yaml.
const (
	connectionID = "retail-bank"
	issuer       = "uplusbank-backend"
	lifetime     = 300 // seconds; the policies allow 15m

	secretEnv = "MSGSEC_INTEROP_SECRET"  // the HMAC secret, as msgsec secret new printed it
	jweKeyEnv = "MSGSEC_INTEROP_JWE_KEY" // the JWE key: 32 random bytes, base64url

	// systemPython is Debian's interpreter, the one apt's python3-jwt,
	// python3-jose, python3-jwcrypto and python3-authlib install into. A
	// python3 earlier on PATH (a pyenv shim) does not see them.
	systemPython = "/usr/bin/python3"
)

// suite holds what every case shares: the msgsec binary, key material from
// msgsec itself, a loopback JWKS server and the libraries found here.
type suite struct {
	t      *testing.T
	root   string // the module root
	dir    string // scratch
	msgsec string // the built CLI
	env    []string

	secret string // msgsec secret new, as printed
	jweKey string // base64url, 32 bytes
	keys   map[string]*msgsecKey

	jwks     *httptest.Server
	jwksMu   sync.Mutex
	jwksDocs map[string][]byte

	libs map[string]*library
}

// msgsecKey is one `msgsec keys new --json` answer, written to files.
type msgsecKey struct {
	Kid        string          `json:"kid"`
	Alg        string          `json:"alg"`
	PrivateKey string          `json:"private_key"`
	PublicKey  string          `json:"public_key"`
	JWKS       json.RawMessage `json:"jwks"`

	privPath, pubPath, jwksPath, jwksURL string
}

// library is a JWT library the suite drives, one process per batch.
type library struct {
	name    string
	runtime string // "node" or "python"
	version string
	missing string // why it cannot run here; empty when it can
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	s := &suite{t: t, root: root, dir: t.TempDir(), keys: map[string]*msgsecKey{}, jwksDocs: map[string][]byte{}}
	s.jwks = httptest.NewServer(http.HandlerFunc(s.serveJWKS))
	t.Cleanup(s.jwks.Close)
	s.env = append(os.Environ(), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	s.msgsec = buildMsgsec(t, root, s.dir)
	s.secret = strings.TrimSpace(s.cli(nil, "secret", "new").stdout)
	s.jweKey = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	s.env = append(s.env, secretEnv+"="+s.secret, jweKeyEnv+"="+s.jweKey)
	algs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	keys := make([]*msgsecKey, len(algs))
	errs := make([]error, len(algs))
	parallel(len(algs), len(algs), func(i int) { keys[i], errs[i] = s.newMsgsecKey(algs[i]) })
	for i, alg := range algs {
		require.NoError(t, errs[i], alg)
		s.keys[alg] = keys[i]
	}
	s.libs = s.findLibraries()
	return s
}

// buildMsgsec builds the CLI once, from the module root.
func buildMsgsec(t *testing.T, root, dir string) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	out := filepath.Join(dir, "msgsec")
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/msgsec")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	require.NoErrorf(t, err, "go build ./cmd/msgsec\n%s", b)
	return out
}

// cliResult is one msgsec run.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs msgsec; it never fails the test (callers judge the result).
func (s *suite) runCLI(stdin []byte, args ...string) cliResult {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.msgsec, args...)
	cmd.Env = s.env
	cmd.Dir = s.dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code, r.stderr = -1, err.Error()
	}
	return r
}

// cli runs msgsec for the suite's own setup, where failure is fatal.
func (s *suite) cli(stdin []byte, args ...string) cliResult {
	s.t.Helper()
	r := s.runCLI(stdin, args...)
	require.Zerof(s.t, r.code, "msgsec %s: exit code: %s%s", strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// newMsgsecKey runs `msgsec keys new` and writes its output to files: the
// private key PEM (what the bank signs with), the public key PEM (what a
// policy's public_key names) and the JWKS (served on loopback for
// jwks_url, and read from a file by the libraries).
func (s *suite) newMsgsecKey(alg string) (*msgsecKey, error) {
	kid := "msgsec-" + strings.ToLower(alg)
	r := s.runCLI(nil, "keys", "new", "--alg", alg, "--kid", kid, "--rsa-bits", "2048", "--json")
	if r.code != 0 {
		return nil, fmt.Errorf("msgsec keys new --alg %s: exit %d: %s", alg, r.code, r.stderr)
	}
	var k msgsecKey
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil {
		return nil, fmt.Errorf("msgsec keys new --json: %v", err)
	}
	if k.Kid != kid || k.Alg != alg || k.PrivateKey == "" || k.PublicKey == "" || len(k.JWKS) == 0 {
		return nil, fmt.Errorf("msgsec keys new --alg %s --json: incomplete answer", alg)
	}
	base := filepath.Join(s.dir, kid)
	k.privPath, k.pubPath, k.jwksPath = base+".key", base+".pub", base+".jwks.json"
	for path, content := range map[string]string{k.privPath: k.PrivateKey, k.pubPath: k.PublicKey, k.jwksPath: string(k.JWKS)} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	k.jwksURL = s.serveDoc(kid, k.JWKS)
	return &k, nil
}

func (s *suite) writeFile(path, content string) {
	s.t.Helper()
	require.NoError(s.t, os.WriteFile(path, []byte(content), 0o600))
}

// serveDoc publishes a JWKS document on the loopback server and returns
// its URL.
func (s *suite) serveDoc(name string, doc []byte) string {
	s.jwksMu.Lock()
	defer s.jwksMu.Unlock()
	s.jwksDocs[name] = doc
	return s.jwks.URL + "/jwks/" + name + ".json"
}

func (s *suite) serveJWKS(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/jwks/")
	name, ok2 := strings.CutSuffix(name, ".json")
	s.jwksMu.Lock()
	doc, found := s.jwksDocs[name]
	s.jwksMu.Unlock()
	if !ok || !ok2 || !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

// ---- libraries ----

var libraryRuntimes = []struct{ name, runtime string }{
	{"jose", "node"}, {"jsonwebtoken", "node"},
	{"pyjwt", "python"}, {"python-jose", "python"}, {"jwcrypto", "python"}, {"authlib", "python"},
}

// findLibraries probes each library with a version job; a library that
// cannot run here is marked missing with the reason.
func (s *suite) findLibraries() map[string]*library {
	libs := map[string]*library{}
	nodeMissing := s.nodeReady()
	pythonMissing := ""
	if _, err := os.Stat(systemPython); err != nil {
		pythonMissing = systemPython + " is not installed (scripts/install-services.sh installs the Debian Python libraries)"
	}
	var wg sync.WaitGroup
	for _, lr := range libraryRuntimes {
		l := &library{name: lr.name, runtime: lr.runtime}
		libs[l.name] = l
		switch {
		case l.runtime == "node" && nodeMissing != "":
			l.missing = nodeMissing
			continue
		case l.runtime == "python" && pythonMissing != "":
			l.missing = pythonMissing
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.runBatch(l, []*job{{ID: "version", Op: "version"}})
			switch {
			case err != nil:
				l.missing = fmt.Sprintf("%s does not run here (scripts/install-services.sh installs it): %v", l.name, err)
			case !res["version"].OK:
				l.missing = fmt.Sprintf("%s: %s", l.name, res["version"].Error)
			default:
				l.version = res["version"].Version
			}
		}()
	}
	wg.Wait()
	return libs
}

var npmOnce sync.Once
var npmProblem string

// nodeReady checks node and npm, and runs npm ci in interop/node when
// node_modules does not hold exactly what package-lock.json locks
// (scripts/install-services.sh does the same, and leaves the same marker).
// It returns why Node libraries cannot run, or "".
func (s *suite) nodeReady() string {
	npmOnce.Do(func() {
		for _, bin := range []string{"node", "npm"} {
			if _, err := exec.LookPath(bin); err != nil {
				npmProblem = bin + " is not installed (scripts/install-services.sh installs nodejs and npm)"
				return
			}
		}
		dir := filepath.Join(s.root, "interop", "node")
		lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
		if err != nil {
			npmProblem = "interop/node/package-lock.json: " + err.Error()
			return
		}
		marker := filepath.Join(dir, "node_modules", ".msgsec-lock")
		if have, err := os.ReadFile(marker); err == nil && bytes.Equal(have, lock) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmProblem = fmt.Sprintf("npm ci in interop/node failed: %v: %s", err, bytes.TrimSpace(out))
			return
		}
		if err := os.WriteFile(marker, lock, 0o644); err != nil {
			npmProblem = err.Error()
		}
	})
	return npmProblem
}

// job is one request to a library driver; see interop/node/run.mjs.
type job struct {
	ID              string   `json:"id"`
	Op              string   `json:"op"`
	Alg             string   `json:"alg,omitempty"`
	Key             *keySpec `json:"key,omitempty"`
	Kid             string   `json:"kid,omitempty"`
	Typ             string   `json:"typ,omitempty"`
	Claims          *claims  `json:"claims,omitempty"`
	Lifetime        int      `json:"lifetime,omitempty"`
	FractionalDates bool     `json:"fractional_dates,omitempty"`
	DataTopLevel    bool     `json:"data_top_level,omitempty"`
	JWE             *jweSpec `json:"jwe,omitempty"`
	Token           string   `json:"token,omitempty"`
	Expect          *expect  `json:"expect,omitempty"`
}

type keySpec struct {
	Kind   string `json:"kind"`
	Secret string `json:"secret,omitempty"`
	Path   string `json:"path,omitempty"`
	URL    string `json:"url,omitempty"`
	JWK    string `json:"jwk,omitempty"` // for generate: as-exported, kid, kid-alg
}

type jweSpec struct {
	Key string `json:"key"`
	Kid string `json:"kid,omitempty"`
}

type claims struct {
	Iss        string     `json:"iss"`
	Aud        string     `json:"aud"`
	Sub        string     `json:"sub"`
	Jti        string     `json:"jti"`
	SecretData secretData `json:"customer_secret_data"`
}

type secretData struct {
	CustomerID           string `json:"customer_id"`
	AuthenticationStatus string `json:"authentication_status"`
}

type expect struct {
	Iss string `json:"iss"`
	Aud string `json:"aud"`
}

// result is a driver's answer to one job.
type result struct {
	ID          string          `json:"id"`
	OK          bool            `json:"ok"`
	Token       string          `json:"token"`
	JWK         json.RawMessage `json:"jwk"`
	PublicPEM   string          `json:"public_pem"`
	Claims      map[string]any  `json:"claims"`
	Error       string          `json:"error"`
	Unsupported bool            `json:"unsupported"`
	Version     string          `json:"version"`
}

// runBatch runs one driver process for all of a library's jobs.
func (s *suite) runBatch(l *library, jobs []*job) (map[string]*result, error) {
	in, err := json.Marshal(jobs)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if l.runtime == "node" {
		cmd = exec.CommandContext(ctx, "node", filepath.Join(s.root, "interop", "node", "run.mjs"), l.name)
	} else {
		cmd = exec.CommandContext(ctx, systemPython, filepath.Join(s.root, "interop", "python", "run.py"), l.name)
	}
	cmd.Env = s.env
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLines(errb.String(), 3))
	}
	var res []*result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("driver answer is not JSON: %v: %s", err, lastLines(errb.String(), 3))
	}
	m := make(map[string]*result, len(res))
	for _, r := range res {
		m[r.ID] = r
	}
	for _, j := range jobs {
		if m[j.ID] == nil {
			return nil, fmt.Errorf("driver did not answer job %s", j.ID)
		}
	}
	return m, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// ---- policies ----

// policySpec is the connection's key configuration; yaml renders a whole
// policy file around it.
type policySpec struct {
	keys               []policyKey
	jwksURL            string
	decryptionKey      bool   // the JWE key (see jweKeyYAML)
	secretDataOptional bool   // token.secret_data: optional (default required)
	tokenType          string // token.type
}

type policyKey struct {
	id, alg  string
	encoding string // HMAC: the secret reference's encoding; "" = the default
	pubPath  string // asymmetric: the public key PEM file
}

// jweKeyYAML is how a policy names the JWE decryption key (see
// policy.DecryptionKey): the key in the environment as 43 characters of
// base64url, a decryption key's default encoding.
const jweKeyYAML = `    decryption_keys:
      - id: jwe-1
        secret: {env: ` + jweKeyEnv + `}
`

func (p policySpec) yaml() string {
	var b strings.Builder
	b.WriteString("connections:\n  - id: " + connectionID + "\n    allowed_domains: [https://www.uplusbank.com]\n    allowed_cookies: []\n")
	if len(p.keys) > 0 {
		b.WriteString("    keys:\n")
	}
	for _, k := range p.keys {
		fmt.Fprintf(&b, "      - id: %s\n        algorithm: %s\n", k.id, k.alg)
		if k.pubPath != "" {
			fmt.Fprintf(&b, "        public_key: {file: %q}\n", k.pubPath)
			continue
		}
		if k.encoding != "" {
			fmt.Fprintf(&b, "        secret: {env: %s, encoding: %s}\n", secretEnv, k.encoding)
		} else {
			fmt.Fprintf(&b, "        secret: {env: %s}\n", secretEnv)
		}
	}
	if p.jwksURL != "" {
		fmt.Fprintf(&b, "    jwks_url: %s\n", p.jwksURL)
	}
	if p.decryptionKey {
		b.WriteString(jweKeyYAML)
	}
	b.WriteString("    token:\n      issuer: " + issuer + "\n      max_lifetime: 15m\n")
	if p.secretDataOptional {
		b.WriteString("      secret_data: optional\n")
	}
	if p.tokenType != "" {
		b.WriteString("      type: " + p.tokenType + "\n")
	}
	return b.String()
}

// writePolicy writes the policy to a fresh file and returns its path.
func (s *suite) writePolicy(name string, p policySpec) string {
	path := filepath.Join(s.dir, "policy-"+name+".yaml")
	s.writeFile(path, p.yaml())
	return path
}

// ---- helpers ----

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomID() string { return hex.EncodeToString(randomBytes(16)) }

// parallel runs f(i) for i in [0,n) on at most limit goroutines.
func parallel(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// skipOrFail is testenv.SkipOrFail: a missing library fails under
// MSGSEC_REQUIRE_INTEGRATION=1.
func skipOrFail(t *testing.T, reason string) { t.Helper(); testenv.SkipOrFail(t, reason) }
