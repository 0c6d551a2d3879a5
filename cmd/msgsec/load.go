package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/msgsec/msgsec/policy"
)

// loadConnection loads a policy file and finds one connection in it.
// Failures are input errors (exit 2), reported on one line.
func (c *cli) loadConnection(cmd *command, path, id string, env func(string) (string, bool)) (*policy.ConnectionPolicy, int, bool) {
	if path == "" {
		return nil, c.failf(exitUsage, cmd.name, "--policy FILE is required"), false
	}
	if id == "" {
		return nil, c.failf(exitUsage, cmd.name, "--connection ID is required"), false
	}
	f, err := policy.LoadWith(path, policy.LoadOptions{LookupEnv: env})
	if err != nil {
		return nil, c.failf(exitUsage, cmd.name, "%v", err), false
	}
	for i := range f.Connections {
		if f.Connections[i].ID == id {
			cp := f.Connections[i]
			return &cp, exitOK, true
		}
	}
	return nil, c.failf(exitUsage, cmd.name, "%v", unknownConnection(path, id, f)), false
}

// unknownConnection names the connections the file does have, so a typo
// is easy to spot.
func unknownConnection(path, id string, f *policy.File) error {
	ids := make([]string, 0, len(f.Connections))
	for _, c := range f.Connections {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if len(ids) > 10 {
		ids = append(ids[:10], "...")
	}
	return fmt.Errorf("%w %q in %s (it has: %s)", policy.ErrUnknownConnection, id, path, strings.Join(ids, ", "))
}

// placeholderSecret stands in for secrets the origin command does not use.
// It is not secret (it is in this source file); it is 128 hex digits, so it
// decodes under every encoding a secret reference may name (base64url,
// base64, hex, raw) into at least 64 bytes, enough for HS512.
const placeholderSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// placeholderJWEKey stands in for a decryption key: 32 bytes in base64url
// (a decryption key's default encoding), as A256GCM needs.
const placeholderJWEKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"

// withPlaceholders answers lookups of unset (or empty) variables with
// placeholderSecret (placeholderJWEKey for the variables the policy file
// at path names as decryption keys) and records their names, so a policy
// loads without its secrets for checks that never use them (origin
// decisions depend only on allowed_domains and domain_matching). Set
// variables are passed through: a public key given by {env: NAME} still
// has to be a real key.
func withPlaceholders(env func(string) (string, bool), path string, missing *[]string) func(string) (string, bool) {
	b, _ := readFileCapped(path) // a file it cannot read names none
	return placeholders(env, decryptionKeyEnvsIn(b), missing)
}

// placeholders is withPlaceholders given the decryption keys' variables.
func placeholders(env func(string) (string, bool), jwe map[string]bool, missing *[]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := env(name); ok && strings.TrimSpace(v) != "" {
			return v, true
		}
		if !slices.Contains(*missing, name) {
			*missing = append(*missing, name)
		}
		if jwe[name] {
			return placeholderJWEKey, true
		}
		return placeholderSecret, true
	}
}

// decryptionKeyEnvsIn lists the environment variables a policy document
// names as decryption keys' secrets. It reads the document leniently (the
// real load reports every problem).
func decryptionKeyEnvsIn(b []byte) map[string]bool {
	var doc struct {
		Connections []struct {
			DecryptionKeys []struct {
				Secret struct {
					Env string `yaml:"env"`
				} `yaml:"secret"`
			} `yaml:"decryption_keys"`
		} `yaml:"connections"`
	}
	_ = yaml.Unmarshal(b, &doc) // a partial decode is enough
	out := map[string]bool{}
	for _, c := range doc.Connections {
		for _, d := range c.DecryptionKeys {
			if d.Secret.Env != "" {
				out[d.Secret.Env] = true
			}
		}
	}
	return out
}

// problemKind names a policy problem's kind for humans and JSON.
func problemKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{policy.ErrSyntax, "syntax"},
		{policy.ErrUnknownField, "unknown-field"},
		{policy.ErrMissing, "missing"},
		{policy.ErrSecret, "secret"},
		{policy.ErrValue, "value"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "invalid"
}
