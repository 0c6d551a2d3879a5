package policy

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, matched with errors.Is on a *FieldError or an *Error.
var (
	// ErrInvalid is matched by every policy problem.
	ErrInvalid = errors.New("policy: invalid")
	// ErrSyntax: the file is not valid YAML/JSON or a value has the wrong type.
	ErrSyntax = errors.New("policy: syntax error")
	// ErrUnknownField: a field the schema does not have (a typo, usually).
	ErrUnknownField = errors.New("policy: unknown field")
	// ErrMissing: a required field is empty.
	ErrMissing = errors.New("policy: required field missing")
	// ErrValue: a field's value is not allowed.
	ErrValue = errors.New("policy: invalid value")
	// ErrSecret: a secret reference cannot be resolved, or is inline
	// without insecure_inline.
	ErrSecret = errors.New("policy: secret reference")
	// ErrUnknownConnection: no connection has the requested ID.
	ErrUnknownConnection = errors.New("policy: unknown connection")
)

// FieldError is one problem, at one place in the policy file.
type FieldError struct {
	// Path locates the field, as "connections[0].allowed_domains[2]".
	Path string
	// Line is the line in the file, 0 when unknown.
	Line int
	// Kind is one of the sentinel errors.
	Kind error
	// Msg says what is wrong. It never contains secret values.
	Msg string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		b.WriteString(" (line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(')')
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is matches ErrInvalid and the error's Kind.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid || target == e.Kind }

// Error lists every problem found in a policy file, in file order.
type Error struct {
	File     string
	Problems []*FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("policy")
	if e.File != "" {
		b.WriteString(" ")
		b.WriteString(e.File)
	}
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(len(e.Problems)))
	if len(e.Problems) == 1 {
		b.WriteString(" problem: ")
	} else {
		b.WriteString(" problems: ")
	}
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// problems collects FieldErrors, attaching line numbers known for paths.
type problems struct {
	lines map[string]int
	list  []*FieldError
	// aliased counts the nodes the schema walk has visited through YAML
	// aliases; past maxAliasedNodes the walk stops (see checkSchema).
	aliased  int
	aliasBad bool
}

func (p *problems) add(path string, kind error, msg string) {
	p.list = append(p.list, &FieldError{Path: path, Line: p.line(path), Kind: kind, Msg: msg})
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
	if len(p.list) == 0 {
		return nil
	}
	return &Error{File: file, Problems: p.list}
}

// hasUnder reports whether a problem was recorded at path or below it.
func (p *problems) hasUnder(path string) bool {
	for _, e := range p.list {
		if e.Path == path || strings.HasPrefix(e.Path, path+".") || strings.HasPrefix(e.Path, path+"[") {
			return true
		}
	}
	return false
}
