package cookies

import (
	"strconv"
	"strings"

	"github.com/msgsec/msgsec/cfgerr"
)

// Allowlist is a compiled, immutable set of cookie names that may be
// forwarded to the chat server. It is safe for concurrent use. Build one
// with [NewAllowlist].
type Allowlist struct {
	exact    map[string]struct{}
	exactLen uint64   // bit n set when an exact name has length n (n < 64)
	longName bool     // some exact name is 64 bytes or longer
	prefixes []string // prefix entries without their "*"

	names    []string // exact entries, in input order
	patterns []string // prefix entries with their "*", in input order

	maxCookieBytes int
	maxCount       int
	maxTotalBytes  int
	allowSensitive bool
}

// NewAllowlist compiles an allowlist from entries that are either exact
// cookie names or prefixes ending in a single "*":
//
//	page_viewed    exactly the cookie named "page_viewed" (case-sensitive)
//	cart_*         any cookie whose name starts with "cart_"
//
// An entry must be an RFC 7230 token (the syntax of a cookie name), must not
// start with "$", and must not be listed twice. A bare "*" is refused: an
// allowlist that admits everything is not an allowlist. Names that usually
// hold sessions or credentials ([IsSensitiveName]), and prefixes that could
// admit them ("__*", "JSESS*", "tok*"), are refused unless
// [DangerouslyAllowSensitiveNames] is given.
//
// Every problem, of the entries and of the options, is reported at once:
// the error holds one *cfgerr.Error per problem (walk them with
// cfgerr.All), each matching [ErrInvalidAllowlist] and, for a sensitive
// name, [ErrSensitiveName]. An empty list is valid and admits nothing.
func NewAllowlist(names []string, opts ...Option) (*Allowlist, error) {
	cfg := config{
		maxCookieBytes: DefaultMaxCookieBytes,
		maxCount:       DefaultMaxCount,
		maxTotalBytes:  DefaultMaxTotalBytes,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a := &Allowlist{
		exact:          make(map[string]struct{}, len(names)),
		maxCookieBytes: cfg.maxCookieBytes,
		maxCount:       cfg.maxCount,
		maxTotalBytes:  cfg.maxTotalBytes,
		allowSensitive: cfg.allowSensitive,
	}
	var problems []*cfgerr.Error
	seen := make(map[string]int, len(names))
	for i, entry := range names {
		if reason, kind := checkEntry(entry, cfg.allowSensitive); reason != "" {
			problems = append(problems, entryProblem(i, entry, reason, kind))
			continue
		}
		if first, dup := seen[entry]; dup {
			problems = append(problems, entryProblem(i, entry, "duplicate of entry "+strconv.Itoa(first), ErrInvalidAllowlist))
			continue
		}
		seen[entry] = i
		a.add(entry)
	}
	problems = append(problems, cfg.problems...)
	if err := cfgerr.Join("cookies: invalid allowlist", problems); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Allowlist) add(entry string) {
	if p, ok := strings.CutSuffix(entry, "*"); ok {
		a.prefixes = append(a.prefixes, p)
		a.patterns = append(a.patterns, entry)
		return
	}
	a.exact[entry] = struct{}{}
	a.names = append(a.names, entry)
	if len(entry) < 64 {
		a.exactLen |= 1 << len(entry)
	} else {
		a.longName = true
	}
}

// checkEntry returns why an entry is refused and the problem's Kind, or
// "".
func checkEntry(entry string, allowSensitive bool) (string, error) {
	if entry == "" {
		return reasonEmpty, ErrInvalidAllowlist
	}
	if entry == "*" {
		return reasonBareStar, ErrInvalidAllowlist
	}
	name, isPrefix := strings.CutSuffix(entry, "*")
	if strings.Contains(name, "*") || (isPrefix && name == "") {
		return reasonBadPattern, ErrInvalidAllowlist
	}
	if !isToken(name) {
		return reasonNotToken, ErrInvalidAllowlist
	}
	if name[0] == '$' {
		return reasonReserved, ErrInvalidAllowlist
	}
	switch {
	case allowSensitive:
	case IsSensitiveName(name):
		return reasonSensitive, ErrSensitiveName
	case isPrefix && prefixCouldBeSensitive(name):
		return reasonSensitivePx, ErrSensitiveName
	}
	return "", nil
}

// Names returns the exact-name entries, in the order given to
// [NewAllowlist]. Publish them (with [Allowlist.Patterns]) in the widget
// configuration so the widget reads only these cookies. The slice is a
// copy.
func (a *Allowlist) Names() []string { return append([]string(nil), a.names...) }

// Patterns returns the prefix entries with their trailing "*", in the order
// given to [NewAllowlist]. The slice is a copy.
func (a *Allowlist) Patterns() []string { return append([]string(nil), a.patterns...) }

// Allows reports whether a cookie with this name would be forwarded,
// setting aside its value, duplicates and limits.
func (a *Allowlist) Allows(name string) bool {
	if !isToken(name) || name[0] == '$' {
		return false
	}
	return a.match(name) == matchAllowed
}

type matchResult uint8

const (
	matchNone matchResult = iota
	matchAllowed
	matchSensitive // admitted only by a prefix, but the name is sensitive
)

// match looks name up: the exact map first, then the (short) prefix list.
// The caller has checked that name is a token.
func (a *Allowlist) match(name string) matchResult {
	if len(name) >= 64 && a.longName || len(name) < 64 && a.exactLen>>len(name)&1 == 1 {
		if _, ok := a.exact[name]; ok {
			return matchAllowed
		}
	}
	for _, p := range a.prefixes {
		if strings.HasPrefix(name, p) {
			if !a.allowSensitive && IsSensitiveName(name) {
				return matchSensitive
			}
			return matchAllowed
		}
	}
	return matchNone
}
