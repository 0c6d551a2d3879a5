package main

import (
	"fmt"

	"github.com/msgsec/msgsec/policy"
)

func originCommand() *command {
	return &command{
		name:    "origin",
		args:    "--policy FILE --connection ID [--json] ORIGIN...",
		summary: "say whether origins may host a connection's widget, and why",
		help: `Checks each ORIGIN (a browser Origin header value: scheme://host[:port],
lowercase, no path) against a connection's allowed domains, exactly as the
chat server's CORS, WebSocket and frame-ancestors checks do, and says which
pattern admitted it or why none did. A value a browser would never send
(a path, uppercase, a default port written out) is denied with the reason.

Origin decisions use no secrets, so the policy's secret environment
variables need not be set: an unset one is replaced by a placeholder for
this command only (a note on stderr names it; "msgsec policy check"
reports it as an error). Secret files must still be readable.

Exit status: 0 when every origin is allowed, 1 when any is denied.

  msgsec origin --policy examples/policies/uplusbank.yaml \
      --connection retail-bank https://account.uplusbank.com https://www.uplus.com`,
		run: runOrigin,
	}
}

type originReport struct {
	Connection     string          `json:"connection"`
	DomainMatching string          `json:"domain_matching"`
	ReportOnly     bool            `json:"report_only"`
	AllAllowed     bool            `json:"all_allowed"`
	Results        []originFinding `json:"results"`
}

type originFinding struct {
	Origin  string `json:"origin"`
	Allowed bool   `json:"allowed"`
	Pattern string `json:"pattern,omitempty"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
}

func runOrigin(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	path := fs.String("policy", "", "the policy `FILE`; required")
	id := fs.String("connection", "", "the connection `ID`; required")
	asJSON := fs.Bool("json", false, "print the decisions as JSON")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return c.failf(exitUsage, cmd.name, "give at least one ORIGIN, such as https://www.example.com")
	}
	var missing []string
	conn, code, ok := c.loadConnection(cmd, *path, *id, withPlaceholders(c.env, *path, &missing))
	if !ok {
		return code
	}
	for _, name := range missing {
		fmt.Fprintf(c.stderr, "msgsec origin: note: %s is not set; origin checks use no secrets, so a placeholder stands in for it (\"msgsec policy check\" reports it)\n", name)
	}
	// Only allowed_domains and domain_matching decide origins. Compiling a
	// copy without keys keeps placeholders out of any verifier and never
	// fetches a jwks_url.
	oc := *conn
	oc.Keys, oc.JWKSURL = nil, ""
	oc.Token = policy.TokenRules{SecretData: policy.SecretDataOptional}
	compiled, err := oc.Compile(c.ctx, policy.CompileOptions{})
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	rep := originReport{
		Connection:     conn.ID,
		DomainMatching: string(policy.MatchExact),
		ReportOnly:     compiled.ReportOnly(),
		AllAllowed:     true,
	}
	if conn.DomainMatching != "" {
		rep.DomainMatching = string(conn.DomainMatching)
	}
	m := compiled.Origins()
	var lines []string
	for _, o := range pos {
		d := m.Explain(o)
		rep.AllAllowed = rep.AllAllowed && d.Allowed
		rep.Results = append(rep.Results, originFinding{
			Origin: d.Origin, Allowed: d.Allowed, Pattern: d.Pattern, Reason: d.Reason.String(), Detail: d.Detail,
		})
		lines = append(lines, d.String()) // quotes the origin: no control bytes reach the terminal
	}
	code = exitOK
	if !rep.AllAllowed {
		code = exitFail
		if rep.ReportOnly {
			fmt.Fprintf(c.stderr, "msgsec origin: note: connection %s is report-only: denied origins are logged, not blocked\n", conn.ID)
		}
	}
	if *asJSON {
		return c.printJSON(rep, code)
	}
	for _, l := range lines {
		fmt.Fprintln(c.stdout, oneLine(l))
	}
	return code
}
