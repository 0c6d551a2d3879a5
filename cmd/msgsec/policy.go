package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// examplePolicy is a copy of examples/policies/uplusbank.yaml (go:embed
// cannot reach outside this directory); a test keeps them identical.
//
//go:embed example-policy.yaml
var examplePolicy string

func policyExampleCommand() *command {
	return &command{
		name:    "policy example",
		args:    "",
		summary: "print a commented example policy file",
		help: `Prints U+ Bank's policy (examples/policies/uplusbank.yaml), with a comment on
every field: a starting point for your own.

  msgsec policy example > policies.yaml
  export UPLUS_JWT_SECRET="$(msgsec secret new)"
  msgsec policy check policies.yaml`,
		run: runPolicyExample,
	}
}

func runPolicyExample(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	fmt.Fprint(c.stdout, examplePolicy)
	return exitOK
}

func policyCheckCommand() *command {
	return &command{
		name:    "policy check",
		args:    "[--strict] [--json] [--no-fetch] FILE | --redis URL [--prefix P] [--sealing-key-env NAME | --sealing-key-file FILE]",
		summary: "validate a policy file and list its weak spots",
		help: `Loads a policy file (YAML, or JSON when it ends in .json) as the chat server
would: it resolves every secret reference, validates every field, and lints
what is valid but weak (any website allowed, plain http, long token
lifetimes, optional secret data, ...). Secret files must be readable; an
environment variable that is not set here is reported as a warning
(secret-unavailable), since secrets are often absent where policies are
checked — --strict turns it into a failure.

Each connection's jwks_url is fetched (10s timeout; --no-fetch skips it),
and its keys are listed: those a chat server would verify with, and each
key it would skip, by index and kid, with the reason (a warning,
jwks-skipped-key). A JWKS that cannot be fetched or holds no usable key is
a warning too (jwks-unavailable): the chat server would refuse to start.

Each problem is printed as FILE:LINE: error|warning: PATH: MESSAGE. A
note per key says where its secret comes from and how the policy turns
the text into key bytes (the encoding: raw uses the string as is, the
default for HMAC secrets; base64url decodes it, the default for
decryption keys), so both sides can be checked to agree. Secret values
are never printed.

With --redis instead of FILE it checks the set a policy store holds (see
"msgsec policy push"), loaded as a chat-server instance on the store
would: every document parsed and validated, sealed secrets opened with the
sealing key. Problems are reported per connection, as
store(PREFIX): error: CONNECTION: PATH: MESSAGE.

Exit status: 1 when the file has errors (syntax, unknown fields, invalid
values, secrets that cannot be decoded) or, with --strict, warnings; 2
when the file cannot be read at all.`,
		run: runPolicyCheck,
	}
}

// checkReport is what policy check prints with --json.
type checkReport struct {
	File        string         `json:"file"`
	OK          bool           `json:"ok"`
	Strict      bool           `json:"strict"`
	Connections []string       `json:"connections"`
	Errors      []checkFinding `json:"errors"`
	Warnings    []checkFinding `json:"warnings"`
	JWKS        []jwksReport   `json:"jwks,omitempty"`
	Keys        []keyNote      `json:"keys"`
}

// jwksReport is what a connection's jwks_url holds, as a chat server
// would read it.
type jwksReport struct {
	Connection string     `json:"connection"`
	URL        string     `json:"url"`
	Keys       []jwksKey  `json:"keys"`
	Skipped    []jwksSkip `json:"skipped"`
	Error      string     `json:"error,omitempty"`
}

type jwksKey struct {
	Kid string `json:"kid"` // empty: the key has none (usable by tokens without kid)
	Alg string `json:"alg"`
}

type jwksSkip struct {
	Key    string `json:"key"` // keys[i]
	Kid    string `json:"kid,omitempty"`
	Reason string `json:"reason"`
}

// keyNote describes one key of a valid policy: where its material comes
// from and how it becomes key bytes. Never the material.
type keyNote struct {
	Path      string `json:"path"`
	Kid       string `json:"kid"`
	Algorithm string `json:"alg"`
	Source    string `json:"source"`             // env:NAME, file:PATH, inline:[REDACTED]
	Encoding  string `json:"encoding,omitempty"` // raw, base64url, base64, hex
	Message   string `json:"message"`
}

type checkFinding struct {
	Path    string `json:"path,omitempty"`
	Line    int    `json:"line,omitempty"`
	Kind    string `json:"kind,omitempty"` // errors: syntax, unknown-field, missing, value, secret
	Code    string `json:"code,omitempty"` // warnings: policy.Lint* codes
	Message string `json:"message"`
}

func runPolicyCheck(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	strict := fs.Bool("strict", false, "fail (exit 1) on warnings too")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	noFetch := fs.Bool("no-fetch", false, "do not fetch jwks_url documents")
	sf := addStoreFlags(fs)
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	var (
		f       *policy.File
		err     error
		missing []string
		rep     checkReport
	)
	if *sf.redisURL != "" {
		if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
			return code
		}
		rep = checkReport{File: storeLabel(*sf.prefix), Strict: *strict, Connections: []string{}, Errors: []checkFinding{}, Warnings: []checkFinding{}, Keys: []keyNote{}}
		if f, missing, code, ok = c.checkStore(cmd, sf, &rep); !ok {
			return code
		}
		if f == nil {
			err = policy.ErrInvalid // the problems are in rep already
		}
	} else {
		if code, ok := c.exactArgs(cmd, pos, 1, "the policy FILE"); !ok {
			return code
		}
		path := pos[0]
		rep = checkReport{File: path, Strict: *strict, Connections: []string{}, Errors: []checkFinding{}, Warnings: []checkFinding{}, Keys: []keyNote{}}
		// Secrets are often not present where a policy is checked (a CI job, a
		// laptop): an unset variable becomes a warning, and a placeholder stands
		// in so the rest of the file is still checked. --strict fails on it.
		f, err = policy.LoadWith(path, policy.LoadOptions{LookupEnv: withPlaceholders(c.env, path, &missing)})
	}
	switch {
	case errors.Is(err, policy.ErrInvalid):
		for p := range cfgerr.All(err) {
			rep.Errors = append(rep.Errors, checkFinding{Path: p.Field, Line: p.Line, Kind: problemKind(p.Kind), Message: p.Reason})
		}
	case err != nil:
		// Not a verdict on the policy: the file could not be read.
		return c.failf(exitUsage, cmd.name, "%v", err)
	default:
		for i, conn := range f.Connections {
			rep.Connections = append(rep.Connections, conn.ID)
			rep.Keys = append(rep.Keys, keyNotes(i, &conn)...)
		}
		for _, w := range f.Lint() {
			rep.Warnings = append(rep.Warnings, checkFinding{Path: w.Path, Line: w.Line, Code: w.Code, Message: w.Msg})
		}
		for _, name := range missing {
			for _, p := range envPaths(f, name) {
				rep.Warnings = append(rep.Warnings, checkFinding{Path: p, Code: "secret-unavailable",
					Message: "environment variable " + name + " is not set here, so this secret was not checked; the chat server refuses to start without it"})
			}
		}
		if !*noFetch {
			c.checkJWKS(f, &rep)
		}
	}
	rep.OK = len(rep.Errors) == 0 && (!*strict || len(rep.Warnings) == 0)
	code = exitOK
	if !rep.OK {
		code = exitFail
	}
	if *asJSON {
		return c.printJSON(rep, code)
	}
	c.printCheck(&rep)
	return code
}

// keyNotes describes connection i's keys.
func keyNotes(i int, c *policy.ConnectionPolicy) []keyNote {
	var out []keyNote
	for j, k := range c.Keys {
		alg := k.Algorithm
		if alg == "" {
			alg = string(secretdata.HS256)
		}
		n := keyNote{Path: fmt.Sprintf("connections[%d].keys[%d]", i, j), Kid: k.ID, Algorithm: alg}
		switch {
		case k.Secret != nil:
			n.Source, n.Encoding = k.Secret.String(), k.Secret.Encoding
			n.Message = fmt.Sprintf("HMAC key %s (%s), secret from %s: %s", k.ID, alg, n.Source, encodingMeaning(n.Encoding))
		case k.PublicKey != nil:
			n.Source = k.PublicKey.String()
			n.Message = fmt.Sprintf("public key %s (%s), PEM from %s", k.ID, alg, n.Source)
		}
		out = append(out, n)
	}
	for j, d := range c.DecryptionKeys {
		n := keyNote{Path: fmt.Sprintf("connections[%d].decryption_keys[%d]", i, j), Kid: d.ID, Algorithm: "dir+A256GCM"}
		if d.Secret != nil {
			n.Source, n.Encoding = d.Secret.String(), d.Secret.Encoding
		}
		n.Message = fmt.Sprintf("JWE decryption key %s (dir, A256GCM), secret from %s: %s", d.ID, n.Source, encodingMeaning(n.Encoding))
		out = append(out, n)
	}
	return out
}

// encodingMeaning says, for the bank's developer, what an encoding makes
// of the text a secret reference points at.
func encodingMeaning(enc string) string {
	if enc == "raw" {
		return "the text itself is the key (encoding raw): sign with the string as printed, do not decode it"
	}
	return "the text is " + enc + "-decoded into the key (encoding " + enc + "): the bank decodes it the same way"
}

func (c *cli) printCheck(rep *checkReport) {
	for _, k := range rep.Keys {
		fmt.Fprintln(c.stdout, oneLine(rep.File+": note: "+k.Path+": "+k.Message))
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(c.stdout, oneLine(finding(rep.File, "error", e)))
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(c.stdout, oneLine(finding(rep.File, "warning", w)+" ["+w.Code+"]"))
	}
	for _, j := range rep.JWKS {
		keys := make([]string, 0, len(j.Keys))
		for _, k := range j.Keys {
			kid := strconv.Quote(k.Kid)
			if k.Kid == "" {
				kid = "(no kid)"
			}
			keys = append(keys, kid+" "+k.Alg)
		}
		line := fmt.Sprintf("%s: jwks: connection %s: %s: %s", rep.File, j.Connection, j.URL, plural(len(j.Keys), "usable key"))
		if len(keys) > 0 {
			line += " (" + strings.Join(keys, ", ") + ")"
		}
		fmt.Fprintln(c.stdout, oneLine(line+", "+plural(len(j.Skipped), "skipped")))
	}
	verdict := "ok"
	if !rep.OK {
		verdict = "failed"
	}
	var conns string
	if n := len(rep.Connections); n > 0 {
		conns = fmt.Sprintf("%s (%s), ", plural(n, "connection"), strings.Join(rep.Connections, ", "))
	}
	fmt.Fprintf(c.stdout, "%s: %s: %s%s, %s\n", rep.File, verdict, conns,
		plural(len(rep.Errors), "error"), plural(len(rep.Warnings), "warning"))
}

// finding renders FILE:LINE: SEVERITY: PATH: MESSAGE, the form editors and
// CI annotations understand.
func finding(file, severity string, f checkFinding) string {
	var b strings.Builder
	b.WriteString(file)
	if f.Line > 0 {
		fmt.Fprintf(&b, ":%d", f.Line)
	}
	b.WriteString(": " + severity + ": ")
	if f.Path != "" {
		b.WriteString(f.Path + ": ")
	}
	b.WriteString(f.Message)
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// checkJWKS fetches each connection's jwks_url, as a chat server would
// at start, and reports its keys and each key it skips.
func (c *cli) checkJWKS(f *policy.File, rep *checkReport) {
	client := &http.Client{Timeout: 10 * time.Second}
	for i, conn := range f.Connections {
		if conn.JWKSURL == "" {
			continue
		}
		path := fmt.Sprintf("connections[%d].jwks_url", i)
		j := jwksReport{Connection: conn.ID, URL: conn.JWKSURL, Keys: []jwksKey{}, Skipped: []jwksSkip{}}
		keys, skipped, err := fetchJWKS(c.ctx, client, conn.JWKSURL)
		for _, k := range keys {
			kid, alg := k.ID(), string(k.Algorithm())
			if strings.Contains(k.String(), "kid: none") {
				kid = ""
			}
			if strings.Contains(k.String(), "RS256|PS256") {
				alg = "RS256|PS256"
			}
			j.Keys = append(j.Keys, jwksKey{Kid: kid, Alg: alg})
		}
		for _, p := range skipped {
			j.Skipped = append(j.Skipped, jwksSkip{Key: p.Field, Kid: p.Value, Reason: p.Reason})
			what := p.Field
			if p.Value != "" {
				what += " (kid " + strconv.Quote(p.Value) + ")"
			} else {
				what += " (no kid)"
			}
			rep.Warnings = append(rep.Warnings, checkFinding{Path: path, Code: policy.LintJWKSSkippedKey,
				Message: "jwks " + conn.JWKSURL + ": " + what + " is skipped: " + p.Reason})
		}
		if err != nil {
			j.Error = err.Error()
			rep.Warnings = append(rep.Warnings, checkFinding{Path: path, Code: policy.LintJWKSUnavailable,
				Message: "jwks " + conn.JWKSURL + ": " + err.Error() + "; the chat server refuses to start without a usable key"})
		}
		rep.JWKS = append(rep.JWKS, j)
	}
}

// fetchJWKS reads a JWKS document (at most 1 MiB) and parses it as a
// verifier would. The error says why it holds no usable key, in one line.
func fetchJWKS(ctx context.Context, client *http.Client, url string) ([]secretdata.Key, []*cfgerr.Error, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, errors.New("not a url")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, errors.New("cannot fetch it")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("fetch answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if err != nil {
		return nil, nil, errors.New("cannot read it")
	}
	keys, skipped, err := secretdata.ParseJWKS(body)
	if err != nil {
		var reasons []string
		for p := range cfgerr.All(err) {
			if !strings.HasPrefix(p.Field, "keys[") || p.Value == cfgerr.Redacted || p.Reason == "duplicate kid" {
				reasons = append(reasons, strings.TrimPrefix(p.Field+": ", ": ")+p.Reason)
			}
		}
		return nil, skipped, errors.New(strings.Join(reasons, "; "))
	}
	return keys, skipped, nil
}

// envPaths lists the fields of f that name the environment variable name.
func envPaths(f *policy.File, name string) []string {
	var out []string
	for i, c := range f.Connections {
		for j, k := range c.Keys {
			for field, ref := range map[string]*policy.SecretRef{"secret": k.Secret, "public_key": k.PublicKey} {
				if ref != nil && ref.Env == name {
					out = append(out, fmt.Sprintf("connections[%d].keys[%d].%s.env", i, j, field))
				}
			}
		}
		for j, d := range c.DecryptionKeys {
			if d.Secret != nil && d.Secret.Env == name {
				out = append(out, fmt.Sprintf("connections[%d].decryption_keys[%d].secret.env", i, j))
			}
		}
	}
	slices.Sort(out)
	return out
}
