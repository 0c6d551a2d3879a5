package origin

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalidPattern is matched by errors.Is for every pattern that fails to
// load, whether alone ([ParsePattern]) or in a list ([NewMatcher]).
var ErrInvalidPattern = errors.New("origin: invalid pattern")

// PatternError describes one rejected pattern.
type PatternError struct {
	// Index is the entry's position in the list given to NewMatcher, or -1
	// when the pattern was parsed alone.
	Index int
	// Pattern is the entry as written (patterns are configuration, not
	// secrets).
	Pattern string
	// Reason says what is wrong, in words a log line or a CLI can carry.
	Reason string
}

func (e *PatternError) Error() string {
	var b strings.Builder
	b.WriteString("origin: pattern ")
	if e.Index >= 0 {
		b.WriteString(strconv.Itoa(e.Index))
		b.WriteByte(' ')
	}
	b.WriteString(strconv.Quote(e.Pattern))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Is reports whether target is ErrInvalidPattern.
func (e *PatternError) Is(target error) bool { return target == ErrInvalidPattern }

// ConfigError lists every rejected entry of a pattern list, in list order.
type ConfigError struct {
	Errors []*PatternError
}

func (e *ConfigError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, pe := range e.Errors {
		msgs[i] = pe.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual pattern errors, so errors.Is and errors.As
// see each of them.
func (e *ConfigError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, pe := range e.Errors {
		errs[i] = pe
	}
	return errs
}
