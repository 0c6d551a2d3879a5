package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/policyview"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// maxInputBytes bounds what sign and verify read from a file or stdin.
const maxInputBytes = 1 << 20

func signCommand() *command {
	return &command{
		name: "sign",
		args: "--policy FILE --connection ID --data JSON|@FILE|- [--session SID] [--subject SUB] [--lifetime 5m] [--kid ID] " +
			"[--private-key FILE [--alg RS256|PS256|ES256|EdDSA]] [--encrypt]",
		summary: "mint a CustomerSecretData token with a connection's HMAC secret or a private key",
		help: `Mints a CustomerSecretData token the way a bank backend does, for wiring up
and testing: signed with the connection's HMAC secret (from the environment
variable or file the policy names), with the policy's issuer and audience,
a fresh jti, and customer_secret_data set to --data. Prints only the token.

--data is a JSON object; pass it as @FILE or - (stdin) to keep customer data
out of shell history and the process list. The first key that can sign and
is active now is used, unless --kid names one.

--private-key signs with the bank's private key instead (a PEM file:
PKCS#8 "PRIVATE KEY" as msgsec keys new writes it, or "EC PRIVATE KEY",
"RSA PRIVATE KEY"); --kid is then required, and is the kid the chat server
knows the public key by (its public_key entry or its JWKS). The algorithm
follows from the key (ES256 for P-256, EdDSA for Ed25519, RS256 for RSA);
--alg PS256 signs an RSA key with PSS, --alg Ed25519 writes RFC 9864's name. The policy still gives issuer, audience and lifetime.

--encrypt wraps the signed token in a JWE (dir + A256GCM) with the
connection's first decryption key; a connection with decryption_keys
takes nothing else, so sign refuses to mint a plain token for it.

  msgsec sign --policy examples/policies/uplusbank.yaml --connection retail-bank \
      --subject customer-42 \
      --data '{"authentication_status":"authenticated","customer_id":"C-1001"}'
  msgsec sign --policy policies.yaml --connection retail-bank --data @data.json \
      --private-key uplus-2027-01.key --kid uplus-2027-01`,
		run: runSign,
	}
}

func runSign(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	path := fs.String("policy", "", "the policy `FILE`; required")
	id := fs.String("connection", "", "the connection `ID`; required")
	data := fs.String("data", "", "customer_secret_data: a JSON object, @FILE, or - for stdin; required")
	session := fs.String("session", "", "bind the token to chat session `SID` (server-to-server delivery)")
	subject := fs.String("subject", "", "the sub claim: the customer")
	lifetime := fs.Duration("lifetime", secretdata.DefaultLifetime, "how long the token is valid, at most the policy's token.max_lifetime")
	kid := fs.String("kid", "", "sign with the key with this `ID` (with --private-key: the kid the token carries; required)")
	privPath := fs.String("private-key", "", "sign with the private key in this PEM `FILE` instead of the policy's HMAC secret")
	fs.StringVar(privPath, "key", "", "the same as --private-key")
	alg := fs.String("alg", "", "with --private-key: the `algorithm` (default from the key: RS256, ES256, EdDSA; or PS256, Ed25519)")
	encrypt := fs.Bool("encrypt", false, "wrap the token in a JWE (dir + A256GCM) with the connection's first decryption key")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	if *data == "" {
		return c.failf(exitUsage, cmd.name, `--data is required: a JSON object such as '{"customer_id":"C-1001"}', @FILE, or -`)
	}
	if *alg != "" && *privPath == "" {
		return c.failf(exitUsage, cmd.name, "--alg goes with --private-key (an HMAC key's algorithm is the policy's)")
	}
	if *privPath != "" && *kid == "" {
		return c.failf(exitUsage, cmd.name, "--private-key needs --kid: the key ID the chat server knows the public key by")
	}
	secretData, err := c.readSecretData(*data)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	conn, code, ok := c.loadConnection(cmd, *path, *id, c.env)
	if !ok {
		return code
	}
	switch hasJWE := len(conn.DecryptionKeys) > 0; {
	case *encrypt && !hasJWE:
		return c.failf(exitUsage, cmd.name, "connection %s has no decryption_keys to encrypt with", conn.ID)
	case !*encrypt && hasJWE:
		return c.failf(exitUsage, cmd.name, "connection %s takes only JWE tokens (it has decryption_keys): add --encrypt", conn.ID)
	}
	var cfg secretdata.SignerConfig
	if *privPath != "" {
		key, err := loadPrivateKey(*privPath, *kid, *alg)
		if err != nil {
			return c.failf(exitUsage, cmd.name, "%v", err)
		}
		if cfg, err = policyview.SignerBase(conn); err != nil {
			return c.failf(exitUsage, cmd.name, "connection %s: %v", conn.ID, err)
		}
		cfg.Key = key
	} else {
		if len(conn.Keys) == 0 {
			return c.failf(exitUsage, cmd.name, "connection %s has no keys to sign with (a bank's private key: --private-key)", conn.ID)
		}
		if cfg, err = conn.SignerConfig(*kid, c.now()); err != nil {
			return c.failf(exitUsage, cmd.name, "connection %s: %v", conn.ID, err)
		}
	}
	cfg.Lifetime, cfg.Now = *lifetime, c.now
	signer, err := secretdata.NewSigner(cfg)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v (the policy's token.max_lifetime is %s)", err, cfg.MaxLifetime)
	}
	token, err := signer.Sign(secretdata.Claims{Subject: *subject, SessionID: *session, SecretData: secretData})
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	fmt.Fprintln(c.stdout, token)
	return exitOK
}

// loadPrivateKey reads a PEM private key and binds it to kid and alg (alg
// inferred from the key when empty; RSA needs it). Errors name the file
// and what is wrong, never key material.
func loadPrivateKey(path, kid, alg string) (secretdata.Key, error) {
	b, err := readFileCapped(path)
	if err != nil {
		return secretdata.Key{}, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return secretdata.Key{}, fmt.Errorf("%s: no PEM block found", path)
	}
	var priv any
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return secretdata.Key{}, fmt.Errorf("%s: an encrypted private key; decrypt it first (openssl pkcs8 -in FILE -out FILE.plain)", path)
	default:
		return secretdata.Key{}, fmt.Errorf("%s: PEM block is %q; want a private key (\"PRIVATE KEY\", as msgsec keys new writes it)", path, block.Type)
	}
	if err != nil {
		return secretdata.Key{}, fmt.Errorf("%s: cannot parse the %s", path, strings.ToLower(block.Type))
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return secretdata.Key{}, fmt.Errorf("%s: not a signing key", path)
	}
	a := secretdata.Algorithm(alg)
	if alg != "" {
		if a, err = keyAlgorithm(alg); err != nil {
			return secretdata.Key{}, err
		}
	} else {
		switch signer.(type) {
		case *ecdsa.PrivateKey:
			a = secretdata.ES256
		case ed25519.PrivateKey:
			a = secretdata.EdDSA
		case *rsa.PrivateKey:
			a = secretdata.RS256 // --alg PS256 signs the same key with PSS
		default:
			return secretdata.Key{}, fmt.Errorf("%s: unsupported key type", path)
		}
	}
	key, err := secretdata.NewPrivateKey(kid, a, signer)
	if err != nil {
		var reasons []string
		for p := range cfgerr.All(err) {
			reasons = append(reasons, p.Field+": "+p.Reason)
		}
		return secretdata.Key{}, fmt.Errorf("%s with --alg %s: %s", path, a, strings.Join(reasons, "; "))
	}
	return key, nil
}

// readSecretData reads --data: inline JSON, @FILE or - (stdin). Error
// messages give positions, never the data.
func (c *cli) readSecretData(arg string) (map[string]any, error) {
	var raw []byte
	var err error
	switch {
	case arg == "-":
		raw, err = readCapped(c.stdin, "stdin")
	case strings.HasPrefix(arg, "@"):
		raw, err = readFileCapped(arg[1:])
	default:
		raw = []byte(arg)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("--data is not valid JSON (at byte %d)", se.Offset)
		}
		return nil, errors.New("--data is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("--data holds more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("--data must be a JSON object, such as {\"customer_id\":\"C-1001\"}")
	}
	return m, nil
}

func readCapped(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(b) > maxInputBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxInputBytes)
	}
	return b, nil
}

func readFileCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	return readCapped(f, path)
}

func verifyCommand() *command {
	return &command{
		name:    "verify",
		args:    "--policy FILE --connection ID [--session SID] [--show-secret-data] [--json] TOKEN|-",
		summary: "check a CustomerSecretData token as the chat server would",
		help: `Verifies a CustomerSecretData token with a connection's keys and token rules
(issuer, audience, lifetime, leeway), exactly as the chat server does, and
prints the verdict, the reason a token is refused (malformed, bad signature,
expired, not yet valid, invalid claims, unknown key, ...), and the claims of
a valid token.

The subject and the values of customer_secret_data are masked ("***")
unless --show-secret-data; member names are always shown. Pass the token as
- to read it from stdin, which keeps it out of shell history.

A JWE (dir + A256GCM) verifies when the connection has decryption_keys,
and then only a JWE does. A refused HMAC signature says how the policy
reads the secret (its encoding), never the secret.

A token bound to a chat session (sid) verifies only with --session SID.
Each run has a fresh replay cache, so a token verified here is still
accepted by the server.

Exit status: 0 when the token is valid, 1 when it is not.`,
		run: runVerify,
	}
}

type verifyReport struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// Claims are those of a valid token; nothing of an invalid one is shown.
	Claims *claimsView `json:"claims,omitempty"`
	Masked bool        `json:"secret_data_masked"`
	// Warnings are about a valid token (also printed on stderr).
	Warnings []string `json:"warnings,omitempty"`
}

type claimsView struct {
	Issuer     string         `json:"iss"`
	Audience   string         `json:"aud"`
	Subject    string         `json:"sub,omitempty"`
	SessionID  string         `json:"sid,omitempty"`
	IssuedAt   time.Time      `json:"iat"`
	NotBefore  *time.Time     `json:"nbf,omitempty"`
	ExpiresAt  time.Time      `json:"exp"`
	ID         string         `json:"jti"`
	SecretData map[string]any `json:"customer_secret_data"`
}

func runVerify(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	path := fs.String("policy", "", "the policy `FILE`; required")
	id := fs.String("connection", "", "the connection `ID`; required")
	session := fs.String("session", "", "accept only a token bound to chat session `SID`")
	show := fs.Bool("show-secret-data", false, "print the subject and secret-data values instead of masking them")
	asJSON := fs.Bool("json", false, "print the verdict and claims as JSON")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 1, "the TOKEN (or - to read it from stdin)"); !ok {
		return code
	}
	token, err := c.readToken(pos[0])
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	conn, code, ok := c.loadConnection(cmd, *path, *id, c.env)
	if !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second) // bounds a jwks_url fetch
	defer cancel()
	compiled, err := conn.Compile(ctx, policy.CompileOptions{Now: c.now})
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	v := compiled.Verifier()
	if v == nil {
		return c.failf(exitUsage, cmd.name, "connection %s has no keys: every token is refused", conn.ID)
	}
	var claims *secretdata.Claims
	if *session != "" {
		claims, err = v.VerifySession(ctx, token, *session)
	} else {
		claims, err = v.Verify(ctx, token)
	}
	rep := verifyReport{Valid: err == nil, Masked: !*show}
	code = exitOK
	if err != nil {
		rep.Reason, rep.Error, code = tokenReason(err), err.Error(), exitFail
		rep.Hint = verifyHint(err, token, conn, *session != "")
	} else {
		rep.Claims = viewClaims(claims, *show)
		if len(claims.MisplacedClaims) > 0 {
			rep.Warnings = append(rep.Warnings, misplacedWarning(claims.MisplacedClaims))
		}
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(c.stderr, "msgsec verify: warning: "+w)
	}
	if *asJSON {
		return c.printJSON(rep, code)
	}
	c.printVerify(&rep)
	return code
}

// misplacedWarning says that customer data sits in top-level claims,
// naming them (quoted: a token chose them), never their values.
func misplacedWarning(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return "the token has no customer_secret_data but carries the top-level claims " + strings.Join(quoted, ", ") +
		" (values not shown): customer data belongs inside customer_secret_data, so the chat gets none;" +
		" a connection with secret_data: required refuses such tokens"
}

// readToken takes the token argument, or reads it from stdin for "-".
func (c *cli) readToken(arg string) (string, error) {
	if arg == "-" {
		b, err := readCapped(c.stdin, "stdin")
		if err != nil {
			return "", err
		}
		arg = string(b)
	}
	t := strings.TrimSpace(arg)
	if t == "" {
		return "", errors.New("the token is empty")
	}
	return t, nil
}

// tokenReason names the sentinel a verification error wraps.
func tokenReason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{secretdata.ErrMalformed, "malformed"},
		{secretdata.ErrSignature, "bad signature"},
		{secretdata.ErrExpired, "expired"},
		{secretdata.ErrNotYetValid, "not yet valid"},
		{secretdata.ErrReplayed, "replayed"},
		{secretdata.ErrReplayCheckUnavailable, "replay check unavailable"},
		{secretdata.ErrUnknownKey, "unknown key"},
		{secretdata.ErrClaims, "invalid claims"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "invalid"
}

const masked = "***"

func viewClaims(cl *secretdata.Claims, show bool) *claimsView {
	v := &claimsView{
		Issuer: cl.Issuer, Audience: cl.Audience, Subject: cl.Subject, SessionID: cl.SessionID,
		IssuedAt: cl.IssuedAt.UTC(), ExpiresAt: cl.ExpiresAt.UTC(), ID: cl.ID,
		SecretData: cl.SecretData,
	}
	if !cl.NotBefore.IsZero() {
		nbf := cl.NotBefore.UTC()
		v.NotBefore = &nbf
	}
	if v.SecretData == nil {
		v.SecretData = map[string]any{}
	}
	if !show {
		if v.Subject != "" {
			v.Subject = masked
		}
		v.SecretData = maskValues(v.SecretData).(map[string]any)
	}
	return v
}

// maskValues keeps an object's member names (they are the bank's schema,
// not the customer's data) and replaces every value with "***".
func maskValues(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = maskValues(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = maskValues(x)
		}
		return out
	}
	return masked
}

// verifyHint says what to do about a refusal the token's shape explains:
// a JWE where the connection takes JWS or the reverse, a session token
// without --session. It looks at the token's segments only.
func verifyHint(err error, token string, conn *policy.ConnectionPolicy, withSession bool) string {
	dots := strings.Count(token, ".")
	hasJWE := len(conn.DecryptionKeys) > 0
	switch {
	case errors.Is(err, secretdata.ErrMalformed) && dots == 4 && !hasJWE:
		return "the token is a JWE, and connection " + conn.ID + " has no decryption_keys to open it"
	case errors.Is(err, secretdata.ErrMalformed) && dots == 2 && hasJWE:
		return "connection " + conn.ID + " takes only JWE tokens (it has decryption_keys); this one is a plain JWS: sign with --encrypt"
	case errors.Is(err, secretdata.ErrClaims) && !withSession && strings.Contains(err.Error(), "sid"):
		return "a token bound to a chat session verifies only with --session SID"
	case errors.Is(err, secretdata.ErrUnknownKey) && dots == 2:
		return unknownKeyHint(token, conn)
	}
	return ""
}

// unknownKeyHint names the token's kid (read from its header, unverified,
// quoted and clipped) and the keys the connection has.
func unknownKeyHint(token string, conn *policy.ConnectionPolicy) string {
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err != nil || json.Unmarshal(raw, &h) != nil {
		return ""
	}
	kid := h.Kid
	if len(kid) > 64 {
		kid = kid[:64] + "..."
	}
	ids := make([]string, 0, len(conn.Keys))
	for _, k := range conn.Keys {
		ids = append(ids, k.ID)
	}
	have := "no keys"
	if len(ids) > 0 {
		have = "keys " + strings.Join(ids, ", ")
	}
	if conn.JWKSURL != "" {
		have += " and the keys of its jwks_url"
	}
	what := "the token has no kid"
	if h.Kid != "" {
		what = "the token's kid " + strconv.Quote(kid) + " is not a key of connection " + conn.ID
	}
	return what + " (it has " + have + "): sign with one of those, or add the key to the policy " +
		"(a public key: keys: [{id: KID, algorithm: ES256, public_key: {file: bank.pub}}])"
}

func (c *cli) printVerify(rep *verifyReport) {
	w := c.stdout
	if !rep.Valid {
		fmt.Fprintln(w, oneLine("invalid: "+rep.Reason+" ("+rep.Error+")"))
		if rep.Hint != "" {
			fmt.Fprintln(w, oneLine("hint: "+rep.Hint))
		}
		if strings.Contains(rep.Error, "customer_secret_data: missing") {
			fmt.Fprintln(w, `hint: put the customer data inside one claim, "customer_secret_data": {"customer_id": ..., "authentication_status": ...}`)
		}
		return
	}
	cl := rep.Claims
	fmt.Fprintln(w, "valid")
	row := func(name, value string) { fmt.Fprintf(w, "  %-12s %s\n", name+":", oneLine(value)) }
	row("issuer", cl.Issuer)
	row("audience", cl.Audience)
	if cl.Subject != "" {
		row("subject", cl.Subject)
	}
	if cl.SessionID != "" {
		row("session", cl.SessionID)
	}
	row("issued at", cl.IssuedAt.Format(time.RFC3339))
	if cl.NotBefore != nil {
		row("not before", cl.NotBefore.Format(time.RFC3339))
	}
	row("expires", cl.ExpiresAt.Format(time.RFC3339))
	row("token id", cl.ID)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	_ = enc.Encode(cl.SecretData) // maps of JSON values always encode
	fmt.Fprintf(w, "  secret data: %s", b.String())
	if rep.Masked {
		fmt.Fprintln(w, "  (values masked; --show-secret-data prints them)")
	}
}
