package policy

import (
	"errors"
	"strings"

	"github.com/msgsec/msgsec/cfgerr"
)

// Sentinel errors. Every policy problem is a *cfgerr.Error (see package
// cfgerr: Field is the path, as "connections[0].allowed_domains[2]"; Value
// the offending value as written, "[redacted]" for a secret; File and Line
// where it is) whose Kind is one of these, and each of these matches
// ErrInvalid.
var (
	// ErrInvalid is matched by every policy problem.
	ErrInvalid = errors.New("policy: invalid")
	// ErrSyntax: the file is not valid YAML/JSON or a value has the wrong type.
	ErrSyntax error = kind("policy: syntax error")
	// ErrUnknownField: a field the schema does not have (a typo, usually).
	ErrUnknownField error = kind("policy: unknown field")
	// ErrMissing: a required field is empty.
	ErrMissing error = kind("policy: required field missing")
	// ErrValue: a field's value is not allowed.
	ErrValue error = kind("policy: invalid value")
	// ErrSecret: a secret reference cannot be resolved, or is inline
	// without insecure_inline.
	ErrSecret error = kind("policy: secret reference")
	// ErrNotAuthenticated: a stored document's MAC does not verify under
	// the Store's sealing key (written by hand, or under another key).
	ErrNotAuthenticated error = kind("policy: stored document not authenticated by this sealing key")
	// ErrUnknownConnection: no connection has the requested ID.
	ErrUnknownConnection = errors.New("policy: unknown connection")
)

// kind is a problem sentinel: it matches ErrInvalid too.
type kind string

func (k kind) Error() string { return string(k) }

// Is matches ErrInvalid.
func (k kind) Is(target error) bool { return target == ErrInvalid }

// maxValueLen bounds the offending value an error quotes.
const maxValueLen = 80

// problems collects the problems, attaching the line numbers and values
// known for their paths.
type problems struct {
	lines  map[string]int
	values map[string]string // scalar values by path, secrets redacted
	list   []*cfgerr.Error
	// aliased counts the nodes the schema walk has visited through YAML
	// aliases; past maxAliasedNodes the walk stops (see checkSchema).
	aliased  int
	aliasBad bool
}

func (p *problems) add(path string, kind error, msg string) {
	p.list = append(p.list, &cfgerr.Error{Field: path, Value: p.values[path], Line: p.line(path), Kind: kind, Reason: msg})
}

// line finds the line of path, or of its nearest parent that has one.
func (p *problems) line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (p *problems) err(file string) error {
	for _, e := range p.list {
		e.File = file
	}
	return cfgerr.Join("policy: invalid", p.list)
}

// hasUnder reports whether a problem was recorded at path or below it.
func (p *problems) hasUnder(path string) bool {
	for _, e := range p.list {
		if e.Field == path || strings.HasPrefix(e.Field, path+".") || strings.HasPrefix(e.Field, path+"[") {
			return true
		}
	}
	return false
}
