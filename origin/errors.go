package origin

import "errors"

// ErrInvalidPattern is matched by errors.Is for every pattern of a list that
// fails to load in [NewMatcher]. The problems themselves are
// *[cfgerr.Error] values: Field "[i]" for the list entry i, Value the entry as
// written (patterns are configuration, not secrets), Reason what is wrong.
var ErrInvalidPattern = errors.New("origin: invalid pattern")
