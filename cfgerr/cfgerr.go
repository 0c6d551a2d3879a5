package cfgerr

import (
	"iter"
	"strconv"
	"strings"
)

// Redacted stands in Value for a secret.
const Redacted = "[redacted]"

// Error is one configuration problem.
type Error struct {
	// Field locates the offending field or entry, as "allowed_domains[2]",
	// "Leeway" or "connections[0].keys[1].secret".
	Field string
	// Value is the offending value as given, Redacted when it is secret,
	// or "" when the problem is a missing value or the value says nothing.
	Value string
	// Reason says what is wrong, in lowercase words; never a secret.
	Reason string
	// Kind is the package's sentinel (origin.ErrInvalidPattern,
	// secretdata.ErrConfig, policy.ErrValue, ...), matched by errors.Is.
	Kind error
	// File and Line locate the problem in a policy file, when known.
	File string
	Line int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Value != "" {
		b.WriteString(strconv.Quote(e.Value))
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// All yields every *Error in err's tree, in order (depth first, as
// errors.Join and wrapping nest them). It yields nothing for nil.
func All(err error) iter.Seq[*Error] {
	return func(yield func(*Error) bool) {
		walk(err, yield)
	}
}

func walk(err error, yield func(*Error) bool) bool {
	switch e := err.(type) {
	case nil:
		return true
	case *Error:
		return yield(e)
	case interface{ Unwrap() []error }:
		for _, c := range e.Unwrap() {
			if !walk(c, yield) {
				return false
			}
		}
		return true
	case interface{ Unwrap() error }:
		return walk(e.Unwrap(), yield)
	}
	return true
}

// Join returns nil for no problems, else one error holding them all
// (errors.Join), whose message puts each on its own line after prefix
// (as "origin: invalid patterns").
func Join(prefix string, errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return &joined{prefix: prefix, errs: list}
}

// joined is errors.Join with a heading.
type joined struct {
	prefix string
	errs   []error
}

func (j *joined) Error() string {
	var b strings.Builder
	b.WriteString(j.prefix)
	if len(j.errs) == 1 {
		b.WriteString(": ")
		b.WriteString(j.errs[0].Error())
		return b.String()
	}
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(len(j.errs)))
	b.WriteString(" problems")
	for _, e := range j.errs {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

func (j *joined) Unwrap() []error { return j.errs }
