package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/msgsec/msgsec/cfgerr"
)

// maxFileBytes bounds a policy file (1 MiB).
const maxFileBytes = 1 << 20

// LoadOptions adjust where secrets are looked up (tests, embedding).
type LoadOptions struct {
	// LookupEnv finds environment variables; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
	// ReadFile reads secret files; os.ReadFile when nil. Relative paths are
	// resolved against BaseDir (the policy file's directory for Load).
	ReadFile func(string) ([]byte, error)
	BaseDir  string
	// Name labels the source in errors (the path, for Load). A name
	// ending in ".json" makes Parse require strict JSON; otherwise the
	// document is YAML (JSON included, as YAML's subset).
	Name string

	// open unseals a secret a Store sealed (set by the Store); aad binds it
	// to its connection and key.
	open func(aad, sealed string) ([]byte, error)
}

// Load reads a policy file (YAML, or JSON when the name ends in .json),
// resolves its secret references, and validates it. Every problem is
// reported at once in an *Error.
func Load(path string) (*File, error) {
	return LoadWith(path, LoadOptions{})
}

// LoadWith is Load with options.
func LoadWith(path string, opts LoadOptions) (*File, error) {
	data, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	return loadBytes(path, data, opts)
}

// readPolicyFile reads at most maxFileBytes+1 bytes (one more than Parse
// accepts, so an oversized file is reported as such).
func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return data, nil
}

// loadBytes parses the content of the file at path (format by extension,
// secrets relative to its directory).
func loadBytes(path string, data []byte, opts LoadOptions) (*File, error) {
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	if opts.Name == "" {
		opts.Name = path
	}
	file, err := Parse(data, opts)
	if file != nil {
		file.path = path
	}
	return file, err
}

// Parse decodes, resolves and validates a policy document of at most 1 MiB:
// YAML, or strict JSON when opts.Name ends in ".json".
func Parse(data []byte, opts LoadOptions) (*File, error) {
	p := &problems{lines: map[string]int{}, values: map[string]string{}}
	file, ok := decode(data, strings.EqualFold(filepath.Ext(opts.Name), ".json"), p)
	if !ok {
		return nil, p.err(opts.Name)
	}
	file.lineIndex = p.lines
	file.resolveSecrets(opts, p)
	file.validate(p)
	if err := p.err(opts.Name); err != nil {
		return nil, err
	}
	return file, nil
}

// decode parses the document, checks it against the schema (unknown and
// duplicate fields, with paths and lines), and decodes it into a File.
func decode(data []byte, strictJSON bool, p *problems) (*File, bool) {
	if len(data) > maxFileBytes {
		p.add("", ErrSyntax, fmt.Sprintf("the file is larger than %d bytes", maxFileBytes))
		return nil, false
	}
	if strictJSON && !json.Valid(data) {
		p.add("", ErrSyntax, "not valid JSON")
		return nil, false
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add("", ErrSyntax, "the file is empty")
		} else {
			p.add("", ErrSyntax, cleanYAMLError(err))
		}
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p.add("", ErrSyntax, "more than one YAML document in the file")
		return nil, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	// Schema problems are recorded, and decoding goes on (yaml skips unknown
	// fields), so that one run reports them together with the rest.
	checkSchema(root, reflect.TypeOf(File{}), "", false, p)
	if p.aliasBad {
		return nil, false
	}
	var file File
	if err := root.Decode(&file); err != nil {
		p.add("", ErrSyntax, cleanYAMLError(err))
		return nil, false
	}
	return &file, true
}

var (
	secretType   = reflect.TypeOf(Secret{})
	durationType = reflect.TypeOf(time.Duration(0))
	timeType     = reflect.TypeOf(time.Time{})
)

// quotedValue is what an error may quote of a scalar: nothing of a secret,
// at most maxValueLen bytes (cut at a rune boundary) of anything else.
func quotedValue(v string, secret bool) string {
	if secret {
		return cfgerr.Redacted
	}
	if len(v) <= maxValueLen {
		return v
	}
	cut := maxValueLen
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

// maxAliasedNodes bounds how many nodes the schema walk visits through
// aliases. A walk that follows aliases does work (and records lines) in
// proportion to their expansion, not to the file: a 70 KB "billion laughs"
// of nested aliases expanded to 9M nodes and 1.3 GB. Sharing a few lists
// with anchors stays far below the bound.
const maxAliasedNodes = 1 << 16

// checkSchema walks the node tree alongside the Go type, recording each
// path's line and reporting fields the type does not have and keys given
// twice. Type mismatches are left to Decode. aliased says the walk reached
// n through an alias.
func checkSchema(n *yaml.Node, t reflect.Type, path string, aliased bool, p *problems) {
	if p.aliasBad {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n, aliased = n.Alias, true
	}
	if aliased {
		if p.aliased++; p.aliased > maxAliasedNodes {
			p.aliasBad = true
			p.add(path, ErrSyntax, fmt.Sprintf("aliases expand to more than %d nodes", maxAliasedNodes))
			return
		}
	}
	if path != "" {
		p.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// yaml would decode null as "" or drop it from a list; an empty
		// allowed_domains means any website, so refuse rather than guess.
		p.add(path, ErrSyntax, "null is not allowed; omit the field or give a value")
		return
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!binary" || !strings.HasPrefix(n.Tag, "!!")) {
		// yaml decodes a !!binary string into a Go string as its base64
		// content: `mode: !!binary cmVwb3J0LW9ubHk=` reads as "report-only".
		// A policy a reviewer cannot read is refused, as are local tags.
		p.add(path, ErrSyntax, "tag "+strconv.Quote(n.Tag)+" is not allowed; write the value as plain text")
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && path != "" && p.values != nil {
		p.values[path] = quotedValue(n.Value, t == secretType || strings.HasSuffix(path, ".sealed"))
	}
	switch {
	case t == durationType:
		checkDuration(n, path, p)
	case t == secretType || t == timeType:
		return
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			if seen[k.Value] {
				p.lines[sub] = k.Line
				p.add(sub, ErrSyntax, "given twice")
				continue
			}
			seen[k.Value] = true
			ft, ok := fields[k.Value]
			if !ok {
				p.lines[sub] = k.Line
				p.add(sub, ErrUnknownField, "unknown field"+suggest(k.Value, fields))
				continue
			}
			checkSchema(v, ft, sub, aliased, p)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			checkSchema(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", aliased, p)
		}
	}
}

// checkDuration requires a Go duration string with a unit ("15m"): yaml
// would read a bare 30 as 30 nanoseconds' worth of nothing useful, and
// refuse it with a message about Go types. A bad value is recorded and then
// replaced by "0s" in the tree, so that decoding goes on and reports the
// file's other problems in the same run.
func checkDuration(n *yaml.Node, path string, p *problems) {
	msg := ""
	switch {
	case n.Kind != yaml.ScalarNode || n.Tag != "!!str":
		msg = `a duration must be a string with a unit, such as "15m"`
	default:
		if _, err := time.ParseDuration(n.Value); err != nil {
			msg = "invalid duration " + strconv.Quote(n.Value)
		}
	}
	if msg == "" {
		return
	}
	p.add(path, ErrSyntax, msg)
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "0s", Line: n.Line, Column: n.Column}
}

// yamlFields maps the yaml names of a struct's exported fields to their
// types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest names a field that differs from a typo only in case or in
// hyphens/underscores.
func suggest(name string, fields map[string]reflect.Type) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if norm(f) == norm(name) || editDistance(norm(f), norm(name)) <= 2 {
			return " (did you mean " + strconv.Quote(f) + "?)"
		}
	}
	return ""
}

// editDistance is the Levenshtein distance, for typo suggestions.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var yamlTypeNoise = regexp.MustCompile(` into [a-zA-Z0-9_.\[\]*]+`)

// cleanYAMLError keeps yaml's line numbers but drops Go type names.
func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = yamlTypeNoise.ReplaceAllString(msg, "")
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}

// resolveSecrets reads each key's secret and public key from where its
// reference points.
func (f *File) resolveSecrets(opts LoadOptions, p *problems) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	read := opts.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	for ci := range f.Connections {
		c := &f.Connections[ci]
		for ki := range c.Keys {
			k := &c.Keys[ki]
			base := fmt.Sprintf("connections[%d].keys[%d]", ci, ki)
			if k.Secret != nil {
				resolveRef(k.Secret, base+".secret", encRaw, opts.BaseDir, lookup, read, opener(opts, sealAAD(c.ID, "keys", k.ID, "secret")), p)
			}
			if k.PublicKey != nil {
				resolveRef(k.PublicKey, base+".public_key", encRaw, opts.BaseDir, lookup, read, opener(opts, sealAAD(c.ID, "keys", k.ID, "public_key")), p) // PEM text
			}
		}
		for di := range c.DecryptionKeys {
			d := &c.DecryptionKeys[di]
			if d.Secret != nil {
				path := fmt.Sprintf("connections[%d].decryption_keys[%d].secret", ci, di)
				resolveRef(d.Secret, path, encBase64URL, opts.BaseDir, lookup, read, opener(opts, sealAAD(c.ID, "decryption_keys", d.ID, "secret")), p)
			}
		}
	}
}

// resolveRef reads the secret r names and decodes it with r's encoding,
// or with defaultEnc (which it records in r) when r names none.
func resolveRef(r *SecretRef, path, defaultEnc, baseDir string, lookup func(string) (string, bool), read func(string) ([]byte, error), open func(string) ([]byte, error), p *problems) {
	if r.Encoding == "" {
		r.Encoding = defaultEnc
	}
	if _, err := decodeSecret("", r.Encoding); errors.Is(err, errUnknownEncoding) {
		p.add(path+".encoding", ErrValue, errUnknownEncoding.Error())
		return
	}
	switch n := r.sources(); {
	case n == 0:
		p.add(path, ErrSecret, "give one of env, file or value")
		return
	case n > 1:
		p.add(path, ErrSecret, "give only one of env, file, value or sealed")
		return
	}
	var text string
	switch {
	case r.Env != "":
		v, ok := lookup(r.Env)
		if !ok || strings.TrimSpace(v) == "" {
			p.add(path+".env", ErrSecret, "environment variable "+r.Env+" is not set")
			return
		}
		text = v
	case r.File != "":
		name := r.File
		if !filepath.IsAbs(name) && baseDir != "" {
			name = filepath.Join(baseDir, name)
		}
		b, err := read(name)
		if err != nil {
			p.add(path+".file", ErrSecret, "cannot read "+r.File+": "+describeFSError(err))
			return
		}
		text = string(b)
	case r.Sealed != "":
		if open == nil {
			p.add(path+".sealed", ErrSecret, "a sealed secret opens only when read through a policy store that has its sealing key")
			return
		}
		b, err := open(r.Sealed)
		if err != nil {
			p.add(path+".sealed", ErrSecret, "cannot open the sealed secret: a different sealing key, or sealed for another connection or key")
			return
		}
		r.resolved = newSecret(b) // sealed bytes are key bytes: no encoding applies
		return
	default:
		if !r.InsecureInline {
			p.add(path+".value", ErrSecret, "inline secrets need insecure_inline: true (development only); use env or file")
			return
		}
		text = string(r.Value.Bytes())
	}
	if r.InsecureInline && r.Value.IsZero() {
		p.add(path+".insecure_inline", ErrSecret, "insecure_inline only applies to an inline value")
		return
	}
	b, err := decodeSecret(text, r.Encoding)
	if err != nil {
		// The decoder's message may quote input bytes; say only what failed.
		p.add(path, ErrSecret, "cannot decode the secret as "+r.Encoding)
		return
	}
	r.resolved = newSecret(b)
}

func describeFSError(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return "read error"
}
