package cookies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgsec/msgsec/cfgerr"
)

// ErrInvalidAllowlist is matched (with errors.Is) by every error that
// [NewAllowlist] returns, and by each problem in it. The problems are
// *cfgerr.Error values (see package cfgerr): Field "[i]" for entry i of the
// names, or the option's name ("WithMaxCount"); Value the entry or the
// option's value; Reason what is wrong; Kind ErrSensitiveName or
// ErrInvalidAllowlist.
var ErrInvalidAllowlist = errors.New("cookies: invalid allowlist")

// ErrSensitiveName is the Kind of an entry that names, or as a prefix could
// admit, a cookie that usually holds a session or a credential (see
// [IsSensitiveName]). It matches ErrInvalidAllowlist too. It is the one
// problem with a remedy other than fixing the entry: check that the cookie
// carries nothing private, then opt in with
// [DangerouslyAllowSensitiveNames].
var ErrSensitiveName = fmt.Errorf("%w: sensitive cookie name", ErrInvalidAllowlist)

// Why an entry or an option is refused: the Reason of its *cfgerr.Error.
const (
	reasonEmpty       = "empty cookie name"
	reasonBareStar    = "a bare * would allow every cookie"
	reasonBadPattern  = "a pattern is a name prefix followed by a single trailing *"
	reasonNotToken    = "not a valid cookie name (rfc 7230 token)"
	reasonReserved    = "names starting with $ are reserved"
	reasonSensitive   = "name usually holds a session or credential"
	reasonSensitivePx = "prefix could admit names that usually hold a session or credential"
	reasonLimit       = "must be positive"
)

// entryProblem describes refused entry i.
func entryProblem(i int, entry, reason string, kind error) *cfgerr.Error {
	return &cfgerr.Error{Field: "[" + strconv.Itoa(i) + "]", Value: shownEntry(entry), Reason: reason, Kind: kind}
}

// shownEntry is an entry as an error repeats it, safe for logs. An entry
// containing "=" may be a pasted name=value pair, so what follows "=" is
// redacted; long entries are cut. (cfgerr quotes the Value.)
func shownEntry(s string) string {
	const maxShown = 64
	if i := strings.IndexByte(s, '='); i >= 0 {
		s = s[:i+1] + cfgerr.Redacted
	}
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return s
}
