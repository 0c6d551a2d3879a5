package cookies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidAllowlist is matched (with errors.Is) by every error that
// NewAllowlist returns.
var ErrInvalidAllowlist = errors.New("cookies: invalid allowlist")

// Reasons an allowlist entry or option is refused. An *EntryError or
// *OptionError wraps exactly one of them, so callers can tell them apart
// with errors.Is, for example to turn ErrSensitiveName into a lint warning.
var (
	// ErrEmptyEntry: the entry is the empty string.
	ErrEmptyEntry = errors.New("empty cookie name")
	// ErrNotToken: the entry is not an RFC 7230 token (RFC 6265 cookie-name).
	ErrNotToken = errors.New("not a valid cookie name (rfc 7230 token)")
	// ErrReservedName: the entry starts with "$", the attribute syntax of
	// RFC 2965 ($Version, $Path) that cookie-sandwich attacks rely on.
	ErrReservedName = errors.New("names starting with $ are reserved")
	// ErrBadPattern: "*" anywhere but at the end, more than one "*", or a
	// bare "*" (which would allow every cookie).
	ErrBadPattern = errors.New("a pattern is a name prefix followed by a single trailing *")
	// ErrSensitiveName: the entry names, or as a prefix could admit, a cookie
	// that usually holds a session or a credential. See IsSensitiveName and
	// DangerouslyAllowSensitiveNames.
	ErrSensitiveName = errors.New("name usually holds a session or credential")
	// ErrDuplicateEntry: the same entry appears twice.
	ErrDuplicateEntry = errors.New("listed more than once")
	// ErrInvalidLimit: a limit option is zero, negative or inconsistent.
	ErrInvalidLimit = errors.New("invalid limit")
)

// EntryError describes one refused allowlist entry.
type EntryError struct {
	Index int    // position of the entry in the names passed to NewAllowlist
	Entry string // the entry as given
	Err   error  // one of the Err… reasons above
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("entry %d %s: %v", e.Index, displayEntry(e.Entry), e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// displayEntry quotes an entry for an error message, safe for logs. An entry
// containing "=" may be a pasted name=value pair, so what follows "=" is not
// repeated; long entries are cut.
func displayEntry(s string) string {
	const maxShown = 64
	redacted := false
	if i := strings.IndexByte(s, '='); i >= 0 {
		s, redacted = s[:i], true
	}
	cut := len(s) > maxShown
	if cut {
		s = s[:maxShown]
	}
	q := strconv.QuoteToASCII(s)
	if redacted {
		q += " (value after = not shown)"
	} else if cut {
		q += "…"
	}
	return q
}

// OptionError describes one refused option.
type OptionError struct {
	Option string // the option's function name, e.g. "WithMaxCount"
	Value  int
	Err    error
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("option %s(%d): %v", e.Option, e.Value, e.Err)
}

func (e *OptionError) Unwrap() error { return e.Err }

// AllowlistError lists every problem NewAllowlist found, so that a whole
// configuration can be fixed in one go. It matches ErrInvalidAllowlist, and
// errors.Is / errors.As also see each EntryError and OptionError inside.
type AllowlistError struct {
	Entries []*EntryError  // in input order
	Options []*OptionError // in the order the options were given
}

func (e *AllowlistError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidAllowlist.Error())
	sep := ": "
	for _, o := range e.Options {
		b.WriteString(sep)
		b.WriteString(o.Error())
		sep = "; "
	}
	for _, en := range e.Entries {
		b.WriteString(sep)
		b.WriteString(en.Error())
		sep = "; "
	}
	return b.String()
}

// Is reports whether target is ErrInvalidAllowlist.
func (e *AllowlistError) Is(target error) bool { return target == ErrInvalidAllowlist }

// Unwrap returns the option and entry errors.
func (e *AllowlistError) Unwrap() []error {
	errs := make([]error, 0, len(e.Options)+len(e.Entries))
	for _, o := range e.Options {
		errs = append(errs, o)
	}
	for _, en := range e.Entries {
		errs = append(errs, en)
	}
	return errs
}
