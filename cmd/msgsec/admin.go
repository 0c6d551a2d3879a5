package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The admin commands do what the console's Security tab does, through its
// API (package admin), for scripts: every write reads the connection's
// version first and sends it as If-Match, so a concurrent change made in
// the console is refused (412), never overwritten.

const adminHelpCommon = `
The console's URL comes from --url or MSGSEC_ADMIN_URL (the URL the console
is mounted at, e.g. http://127.0.0.1:8090/); the login from the environment
variable --token-env names (default MSGSEC_ADMIN_TOKEN), sent as
"Authorization: Bearer <token>". The token is never printed.`

// adminOp is one admin command: how its arguments become a request.
type adminOp struct {
	name, args, summary, help string
	nargs                     int
	// build returns the method, the path under api/, the JSON body (nil
	// for none) and whether the write needs the connection's version.
	build func(pos []string, f *adminFlags) (method, path string, body any, versioned bool, err error)
}

type adminFlags struct {
	url, tokenEnv, alg, out, at string
	dangerous                   bool
	publicKey, name, issuer     string
	outFile                     *os.File // new-key's --out, opened before the request
}

func adminOps() []adminOp {
	conn := func(id string) string { return "connections/" + url.PathEscape(id) }
	return []adminOp{
		{name: "admin list", summary: "list the console's connections", nargs: 0,
			build: func(_ []string, _ *adminFlags) (string, string, any, bool, error) {
				return "GET", "connections", nil, false, nil
			}},
		{name: "admin show", args: "CONNECTION", summary: "show a connection's security settings (never secrets)", nargs: 1,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "GET", conn(p[0]), nil, false, nil
			}},
		{name: "admin create", args: "CONNECTION", summary: "create a connection (report-only, secret data optional, until you say otherwise)", nargs: 1,
			build: func(p []string, f *adminFlags) (string, string, any, bool, error) {
				return "POST", "connections", map[string]any{"id": p[0], "name": f.name, "issuer": f.issuer}, false, nil
			}},
		{name: "admin delete", args: "CONNECTION", summary: "delete a connection: its widget stops working everywhere", nargs: 1,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "DELETE", conn(p[0]), nil, true, nil
			}},
		{name: "admin add-domain", args: "CONNECTION PATTERN", summary: "allow a domain; prints what it admits and refuses", nargs: 2,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "POST", conn(p[0]) + "/domains", map[string]any{"pattern": p[1]}, true, nil
			}},
		{name: "admin remove-domain", args: "CONNECTION PATTERN", summary: "remove an allowed domain", nargs: 2,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "DELETE", conn(p[0]) + "/domains?pattern=" + url.QueryEscape(p[1]), nil, true, nil
			}},
		{name: "admin add-cookie", args: "CONNECTION NAME", summary: "allow a cookie name", nargs: 2,
			help: "A sensitive name (session_id, auth, ...) is refused unless --dangerously-allow-sensitive is given; the audit records the opt-in.",
			build: func(p []string, f *adminFlags) (string, string, any, bool, error) {
				return "POST", conn(p[0]) + "/cookies", map[string]any{"name": p[1], "dangerously_allow_sensitive": f.dangerous}, true, nil
			}},
		{name: "admin remove-cookie", args: "CONNECTION NAME", summary: "remove an allowed cookie name", nargs: 2,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "DELETE", conn(p[0]) + "/cookies/" + url.PathEscape(p[1]), nil, true, nil
			}},
		{name: "admin new-key", args: "CONNECTION [KID]", summary: "create an HMAC key; writes its secret (shown once) to --out", nargs: -1,
			help: "The console makes the secret and answers it once. It is written to --out (created with mode 0600, never overwritten), or to stdout when --out is -.",
			build: func(p []string, f *adminFlags) (string, string, any, bool, error) {
				body := map[string]any{"kind": "hmac", "algorithm": f.alg}
				if len(p) > 1 {
					body["id"] = p[1]
				}
				if f.out == "" {
					return "", "", nil, false, fmt.Errorf("--out FILE is required (or --out - for stdout): the secret is shown once")
				}
				return "POST", conn(p[0]) + "/keys", body, true, nil
			}},
		{name: "admin add-public-key", args: "CONNECTION KID", summary: "register the bank's public key (PEM file in --public-key)", nargs: 2,
			build: func(p []string, f *adminFlags) (string, string, any, bool, error) {
				pem, err := os.ReadFile(f.publicKey)
				if err != nil {
					return "", "", nil, false, fmt.Errorf("--public-key: %w", err)
				}
				return "POST", conn(p[0]) + "/keys", map[string]any{"kind": "public", "id": p[1], "algorithm": f.alg, "public_key": string(pem)}, true, nil
			}},
		{name: "admin retire-key", args: "CONNECTION KID", summary: "schedule a key's retirement (--at RFC 3339 time, default now)", nargs: 2,
			build: func(p []string, f *adminFlags) (string, string, any, bool, error) {
				at := time.Now().UTC()
				if f.at != "" {
					t, err := time.Parse(time.RFC3339, f.at)
					if err != nil {
						return "", "", nil, false, fmt.Errorf("--at: want an RFC 3339 time such as 2026-12-31T00:00:00Z")
					}
					at = t
				}
				return "PATCH", conn(p[0]) + "/keys/" + url.PathEscape(p[1]), map[string]any{"retire_after": at}, true, nil
			}},
		{name: "admin remove-key", args: "CONNECTION KID", summary: "remove a key now", nargs: 2,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "DELETE", conn(p[0]) + "/keys/" + url.PathEscape(p[1]), nil, true, nil
			}},
		{name: "admin mode", args: "CONNECTION enforce|report-only", summary: "switch a connection between report-only and enforce", nargs: 2,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "PATCH", conn(p[0]), map[string]any{"mode": p[1]}, true, nil
			}},
		{name: "admin refused", args: "CONNECTION", summary: "origins a report-only connection would have refused (roll-out)", nargs: 1,
			build: func(p []string, _ *adminFlags) (string, string, any, bool, error) {
				return "GET", conn(p[0]) + "/refused-origins", nil, false, nil
			}},
	}
}

func adminCommands() []*command {
	var out []*command
	for _, op := range adminOps() {
		op := op
		help := op.summary + "."
		if op.help != "" {
			help += "\n\n" + op.help
		}
		out = append(out, &command{name: op.name, args: op.args, summary: op.summary, help: help + "\n" + adminHelpCommon,
			run: func(c *cli, cmd *command, args []string) int { return c.runAdmin(cmd, op, args) }})
	}
	return out
}

func (c *cli) runAdmin(cmd *command, op adminOp, args []string) int {
	fs := newFlags(cmd)
	f := &adminFlags{}
	fs.StringVar(&f.url, "url", "", "the console's `URL` (default $MSGSEC_ADMIN_URL)")
	fs.StringVar(&f.tokenEnv, "token-env", "MSGSEC_ADMIN_TOKEN", "environment variable holding the login `token`")
	switch op.name {
	case "admin new-key":
		fs.StringVar(&f.alg, "alg", "HS256", "HS256, HS384 or HS512")
		fs.StringVar(&f.out, "out", "", "write the secret to `FILE` (mode 0600, never overwritten); - for stdout")
	case "admin add-public-key":
		fs.StringVar(&f.alg, "alg", "ES256", "ES256, RS256, PS256, EdDSA or Ed25519")
		fs.StringVar(&f.publicKey, "public-key", "", "PEM `FILE` of the public key")
	case "admin create":
		fs.StringVar(&f.name, "name", "", "display `name`")
		fs.StringVar(&f.issuer, "issuer", "", "the bank backend's token `issuer` (iss)")
	case "admin add-cookie":
		fs.BoolVar(&f.dangerous, "dangerously-allow-sensitive", false, "allow a sensitive cookie name (recorded in the audit)")
	case "admin retire-key":
		fs.StringVar(&f.at, "at", "", "retirement `TIME` (RFC 3339); default now")
	}
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	switch {
	case op.nargs >= 0:
		if code, ok := c.exactArgs(cmd, pos, op.nargs, op.args); !ok {
			return code
		}
	case len(pos) < 1 || len(pos) > 2:
		return c.failf(exitUsage, cmd.name, "want %s (run \"msgsec %s --help\")", op.args, cmd.name)
	}
	base := f.url
	if base == "" {
		base, _ = c.env("MSGSEC_ADMIN_URL")
	}
	if base == "" {
		return c.failf(exitUsage, cmd.name, "no console URL: give --url or set MSGSEC_ADMIN_URL")
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	token, _ := c.env(f.tokenEnv)
	if strings.TrimSpace(token) == "" {
		return c.failf(exitUsage, cmd.name, "no login: set %s to the console's token", f.tokenEnv)
	}
	method, path, body, versioned, err := op.build(pos, f)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	if op.name == "admin new-key" && f.out != "-" {
		// The file first: a key whose secret has nowhere to go must not be
		// created (the secret is shown once).
		fh, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return c.failf(exitUsage, cmd.name, "--out: %v (nothing was created)", err)
		}
		f.outFile = fh
		defer func() {
			if f.outFile != nil { // not written: no key was made, or it failed
				_ = f.outFile.Close()
				_ = os.Remove(f.out)
			}
		}()
	}
	ac := &adminClient{base: base, token: strings.TrimSpace(token), c: &http.Client{Timeout: 15 * time.Second}}
	etag := ""
	if versioned {
		_, hdr, err := ac.do(c, "GET", "connections/"+url.PathEscape(pos[0]), nil, "")
		if err != nil {
			return c.failf(exitFail, cmd.name, "%v", err)
		}
		etag = hdr.Get("ETag")
	}
	data, _, err := ac.do(c, method, path, body, etag)
	if err != nil {
		return c.failf(exitFail, cmd.name, "%v", err)
	}
	return c.printAdmin(cmd, op, f, data)
}

type adminClient struct {
	base, token string
	c           *http.Client
}

// do sends one request and returns the decoded answer, or the problem
// document as an error.
func (a *adminClient) do(c *cli, method, path string, body any, etag string) (map[string]any, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, a.base+"api/"+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if etag != "" {
		req.Header.Set("If-Match", etag)
	}
	res, err := a.c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("console unreachable: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, nil, err
	}
	var data map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &data); err != nil {
			return nil, nil, fmt.Errorf("HTTP %d, not a JSON answer", res.StatusCode)
		}
	}
	if res.StatusCode >= 300 {
		msg := fmt.Sprintf("HTTP %d", res.StatusCode)
		if t, ok := data["title"].(string); ok {
			msg += ": " + t
		}
		if d, ok := data["detail"].(string); ok && d != "" {
			msg += ": " + d
		}
		if errs, ok := data["errors"].([]any); ok {
			for _, e := range errs {
				if m, ok := e.(map[string]any); ok {
					msg += fmt.Sprintf("; %v: %v", m["field"], m["reason"])
				}
			}
		}
		return nil, nil, fmt.Errorf("%s", msg)
	}
	return data, res.Header, nil
}

// printAdmin prints the answer as indented JSON; the secret of a new key
// goes to --out only.
func (c *cli) printAdmin(cmd *command, op adminOp, f *adminFlags, data map[string]any) int {
	if secret, ok := data["secret"].(string); ok {
		delete(data, "secret")
		delete(data, "secret_note")
		if f.out == "-" {
			fmt.Fprintln(c.stdout, secret)
			return exitOK
		}
		fh := f.outFile
		_, werr := fmt.Fprintln(fh, secret)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			_ = os.Remove(f.out)
			f.outFile = nil
			return c.failf(exitFail, cmd.name, "the key was created but its secret could not be written: %v; remove the key (admin remove-key) and try again", werr)
		}
		f.outFile = nil // written: keep it
		fmt.Fprintf(c.stderr, "msgsec %s: secret written to %s (shown once; not kept in clear anywhere else)\n", cmd.name, f.out)
	}
	if data == nil {
		return exitOK
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(data)
	return exitOK
}
