package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/redisurl"
	"github.com/msgsec/msgsec/internal/sealkey"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// defaultSealingKeyEnv names the variable that holds a policy store's
// sealing key unless --sealing-key-env or --sealing-key-file says otherwise.
const defaultSealingKeyEnv = "MSGSEC_POLICY_SEALING_KEY"

const storeFlagsHelp = `The store is a Redis holding one hash per connection under --prefix
(default msgsec:policy). The sealing key — 32 random bytes in base64url,
as "msgsec secret new --jwe" prints (standard base64 is read too) — is
read from the environment variable --sealing-key-env (default
MSGSEC_POLICY_SEALING_KEY) or from --sealing-key-file; every chat-server
instance on the store needs the same key. Neither the key nor the URL is
ever printed. --redis takes one of:
  redis://[user:password@]host:port/db     one server (rediss:// for TLS);
                                           a Cluster node works too
  redis-cluster://host1:port,host2:port    a Cluster, by some of its nodes
  redis-sentinel://host1:26379,host2:26379/<master-name>?db=0
                                           a Sentinel-managed primary
(userinfo as in redis://; rediss-cluster:// and rediss-sentinel:// for TLS).`

// storeFlags are the flags of the commands that use a policy store.
type storeFlags struct {
	redisURL, prefix, keyEnv, keyFile *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		redisURL: fs.String("redis", "", "the policy store: a Redis `URL` (redis://, redis-cluster://, redis-sentinel://; see below)"),
		prefix:   fs.String("prefix", redispolicy.DefaultPrefix, "the store's key `prefix`"),
		keyEnv:   fs.String("sealing-key-env", defaultSealingKeyEnv, "environment variable holding the sealing key (32 bytes, base64url)"),
		keyFile:  fs.String("sealing-key-file", "", "read the sealing key from `FILE` instead"),
	}
}

// openBackend connects to the store's Redis, whatever its deployment
// shape (package internal/redisurl). The URL is echoed only with its
// password redacted. The returned func closes the client.
func (c *cli) openBackend(cmd *command, sf storeFlags) (*redispolicy.Backend, func(), int, bool) {
	if *sf.redisURL == "" {
		return nil, nil, c.failf(exitUsage, cmd.name, "--redis URL is required"), false
	}
	u, err := redisurl.Parse(*sf.redisURL)
	if err != nil {
		return nil, nil, c.failf(exitUsage, cmd.name, "--redis: %v", err), false
	}
	// The configuration first, on a client that has not dialled yet.
	probe := u.Client()
	_, err = redispolicy.New(redispolicy.Config{Client: probe, Prefix: *sf.prefix, Timeout: 5 * time.Second})
	probe.Close()
	if err != nil {
		return nil, nil, c.failf(exitUsage, cmd.name, "%v", err), false
	}
	ctx, cancel := context.WithTimeout(c.ctx, redisurl.DefaultConnectTimeout)
	defer cancel()
	client, err := u.Connect(ctx)
	if err != nil {
		return nil, nil, c.failf(exitUsage, cmd.name, "the store: %v", err), false
	}
	b, err := redispolicy.New(redispolicy.Config{Client: client, Prefix: *sf.prefix, Timeout: 5 * time.Second})
	if err != nil {
		client.Close()
		return nil, nil, c.failf(exitUsage, cmd.name, "%v", err), false
	}
	return b, func() { client.Close() }, exitOK, true
}

// sealingKey reads the sealing key from --sealing-key-file or the
// environment variable --sealing-key-env names.
func (c *cli) sealingKey(cmd *command, sf storeFlags) ([]byte, int, bool) {
	var text, from string
	if *sf.keyFile != "" {
		b, err := readFileCapped(*sf.keyFile)
		if err != nil {
			return nil, c.failf(exitUsage, cmd.name, "--sealing-key-file: %v", err), false
		}
		text, from = string(b), *sf.keyFile
	} else {
		v, ok := c.env(*sf.keyEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, c.failf(exitUsage, cmd.name, "no sealing key: set %s (make one with: msgsec secret new --jwe) or give --sealing-key-file", *sf.keyEnv), false
		}
		text, from = v, *sf.keyEnv
	}
	key, err := sealkey.Parse(text)
	if err != nil {
		return nil, c.failf(exitUsage, cmd.name, "%s: %v", from, err), false
	}
	return key, exitOK, true
}

func policyPushCommand() *command {
	return &command{
		name:    "policy push",
		args:    "--redis URL [--prefix P] [--sealing-key-env NAME | --sealing-key-file FILE] FILE",
		summary: "validate a policy file and write its connections to a policy store",
		help: `Loads a policy file as "policy check" does (every secret reference must
resolve here), then writes each of its connections to the store with
compare-and-set: a connection the store does not have is created, one it
has is replaced from the version just read, so a change someone else made
in between is refused (conflict), never overwritten unseen. One line per
connection says what happened. Connections in the store but not in FILE
are left as they are (and listed).

Secrets stay as the file gives them: env and file references are stored
as references (each chat-server instance resolves them), secrets held in
the file (insecure_inline, or sealed ones from "msgsec policy pull") are
stored sealed with the sealing key, bound to their connection and key ID.
A file from "policy pull" pushes back as it is.

` + storeFlagsHelp + `

Exit status: 0 when every connection was written; 1 when the file is
invalid (nothing is written) or a write met a conflict; 2 when the file or
the store cannot be read.`,
		run: runPolicyPush,
	}
}

func runPolicyPush(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	sf := addStoreFlags(fs)
	rekey := fs.Bool("rekey", false, "overwrite stored connections written under another sealing key (rotating the key: every instance needs the new one)")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 1, "the policy FILE"); !ok {
		return code
	}
	path := pos[0]
	data, err := readFileCapped(path)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	key, code, ok := c.sealingKey(cmd, sf)
	if !ok {
		return code
	}
	backend, closeFn, code, ok := c.openBackend(cmd, sf)
	if !ok {
		return code
	}
	defer closeFn()
	load := policy.LoadOptions{LookupEnv: c.env, BaseDir: filepath.Dir(path)}
	store, err := policy.NewStore(backend, policy.StoreOptions{SealingKey: key, Load: load})
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	load.Name = path
	f, err := store.Parse(data, load)
	if errors.Is(err, policy.ErrInvalid) {
		for p := range cfgerr.All(err) {
			fmt.Fprintln(c.stdout, oneLine(finding(path, "error", checkFinding{Path: p.Field, Line: p.Line, Message: p.Reason})))
		}
		fmt.Fprintf(c.stdout, "%s: invalid: nothing was written\n", path)
		return exitFail
	}
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	versions, err := store.Versions(c.ctx)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	// A stored connection this key cannot authenticate was written under
	// another sealing key: overwriting it would cut every instance that has
	// the fleet's key off from it. Refuse, unless the operator is rotating.
	if !*rekey {
		var foreign []string
		for id := range versions {
			if _, _, err := store.Get(c.ctx, id); errors.Is(err, policy.ErrNotAuthenticated) {
				foreign = append(foreign, id)
			}
		}
		if len(foreign) > 0 {
			slices.Sort(foreign)
			fmt.Fprintf(c.stdout, "the store: written under another sealing key (or by hand): %s\n", strings.Join(foreign, ", "))
			fmt.Fprintf(c.stdout, "%s: nothing was written: check MSGSEC_POLICY_SEALING_KEY, or pass --rekey when rotating the fleet to this key\n", path)
			return exitFail
		}
	}
	code = exitOK
	inFile := map[string]bool{}
	for i := range f.Connections {
		conn := &f.Connections[i]
		inFile[conn.ID] = true
		was := versions[conn.ID]
		v, err := store.Put(c.ctx, conn, was)
		switch {
		case err == nil && was == 0:
			fmt.Fprintf(c.stdout, "%s: created, version %d\n", conn.ID, v)
		case err == nil:
			fmt.Fprintf(c.stdout, "%s: updated, version %d -> %d\n", conn.ID, was, v)
		case errors.Is(err, policy.ErrConflict):
			fmt.Fprintln(c.stdout, oneLine(conn.ID+": conflict, not written: "+err.Error()+" (someone wrote it meanwhile: pull, merge, push again)"))
			code = max(code, exitFail)
		case errors.Is(err, policy.ErrInvalid):
			// The file validated; the store's own check (compiling) did not.
			for p := range cfgerr.All(err) {
				fmt.Fprintln(c.stdout, oneLine(conn.ID+": invalid, not written: "+p.Field+": "+p.Reason))
			}
			code = max(code, exitFail)
		default:
			fmt.Fprintln(c.stdout, oneLine(conn.ID+": not written: "+err.Error()))
			code = exitUsage
		}
	}
	var others []string
	for id := range versions {
		if !inFile[id] {
			others = append(others, id)
		}
	}
	slices.Sort(others)
	for _, id := range others {
		fmt.Fprintf(c.stdout, "%s: in the store, not in %s: left as it is\n", id, path)
	}
	return code
}

func policyPullCommand() *command {
	return &command{
		name:    "policy pull",
		args:    "--redis URL [--prefix P]",
		summary: "print a policy store's connections as a policy file",
		help: `Prints every connection of the store as one policy file (YAML), in ID order,
with each connection's version in a comment. Secrets appear as the store
keeps them: env and file references as references, every other secret as
its sealed ciphertext ({sealed: v1....}), which only a store with the
sealing key opens — never in clear. Edit it and "msgsec policy push" it
back; pull needs no sealing key.

` + storeFlagsHelp + `

Exit status: 0 when every stored document was printed; 1 when one does not
parse (it is named on stderr and left out); 2 when the store cannot be read.`,
		run: runPolicyPull,
	}
}

func runPolicyPull(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	sf := addStoreFlags(fs)
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	backend, closeFn, code, ok := c.openBackend(cmd, sf)
	if !ok {
		return code
	}
	defer closeFn()
	recs, err := backend.List(c.ctx)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	code = exitOK
	var out policy.File
	var versions []string
	for _, id := range ids {
		var doc policy.File
		dec := yaml.NewDecoder(bytes.NewReader(recs[id].Doc))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil || len(doc.Connections) != 1 || doc.Connections[0].ID != id {
			c.failf(exitFail, cmd.name, "connection %s (version %d): the stored document is not a policy of that connection; left out", id, recs[id].Version)
			code = exitFail
			continue
		}
		out.Connections = append(out.Connections, doc.Connections[0])
		versions = append(versions, fmt.Sprintf("%s=%d", id, recs[id].Version))
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# msgsec policy pull: %s from the store (prefix %s); versions: %s\n",
		plural(len(out.Connections), "connection"), *sf.prefix, strings.Join(versions, ", "))
	fmt.Fprintf(&buf, "# Sealed secrets open only through a store with its sealing key (msgsec policy push).\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if out.Connections == nil {
		out.Connections = []policy.ConnectionPolicy{}
	}
	if err := enc.Encode(out); err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	_ = enc.Close()
	_, _ = c.stdout.Write(buf.Bytes())
	return code
}

// storeLabel names a store in check's report: no URL (it may hold a
// password), only the prefix.
func storeLabel(prefix string) string { return "store(" + prefix + ")" }

// checkStore is policy check --redis: the stored set, loaded as an
// instance would, into rep. It returns the loaded set, or ok=false with
// an exit code when the store cannot be read.
func (c *cli) checkStore(cmd *command, sf storeFlags, rep *checkReport) (*policy.File, []string, int, bool) {
	key, code, ok := c.sealingKey(cmd, sf)
	if !ok {
		return nil, nil, code, false
	}
	backend, closeFn, code, ok := c.openBackend(cmd, sf)
	if !ok {
		return nil, nil, code, false
	}
	defer closeFn()
	recs, err := backend.List(c.ctx)
	if err != nil && !errors.Is(err, policy.ErrInvalid) {
		return nil, nil, c.failf(exitUsage, cmd.name, "%v", err), false
	}
	jwe := map[string]bool{}
	for _, r := range recs {
		for name := range decryptionKeyEnvsIn(r.Doc) {
			jwe[name] = true
		}
	}
	var missing []string
	store, err := policy.NewStore(backend, policy.StoreOptions{SealingKey: key,
		Load: policy.LoadOptions{LookupEnv: placeholders(c.env, jwe, &missing)}})
	if err != nil {
		return nil, nil, c.failf(exitUsage, cmd.name, "%v", err), false
	}
	f, err := store.Load(c.ctx)
	switch {
	case errors.Is(err, policy.ErrInvalid):
		for p := range cfgerr.All(err) {
			path := strings.TrimPrefix(p.File, "store:") // the connection: every document's paths start at connections[0]
			if p.Field != "" {
				path += ": " + p.Field
			}
			rep.Errors = append(rep.Errors, checkFinding{Path: path, Kind: problemKind(p.Kind), Message: p.Reason})
		}
		return nil, missing, exitOK, true
	case err != nil:
		return nil, nil, c.failf(exitUsage, cmd.name, "%v", err), false
	}
	return f, missing, exitOK, true
}
