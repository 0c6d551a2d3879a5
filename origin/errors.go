package origin

import "errors"

// ErrInvalidPattern is matched by errors.Is for every pattern that fails to
// load, whether alone ([ParsePattern]) or in a list ([NewMatcher]). The
// problems themselves are *cfgerr.Error values (see package cfgerr): Field
// "[i]" for the list entry i ("" for ParsePattern), Value the entry as
// written (patterns are configuration, not secrets), Reason what is wrong.
var ErrInvalidPattern = errors.New("origin: invalid pattern")
