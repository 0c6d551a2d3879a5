// Package verifyhook lets package policy attach a timing observer to a
// *secretdata.Verifier it builds (for CompileOptions.OnVerify), without a
// public option on package secretdata: a direct user of a Verifier calls
// Verify itself and can time it there.
package verifyhook

import "time"

// Observe attaches f to v, a *secretdata.Verifier (any: this package cannot
// import secretdata), before v is shared with anyone: from then on f hears
// every Verify and VerifySession of v, on the calling goroutine, with how
// long it took and its error (nil: the token was accepted). Package
// secretdata sets Observe in its init; nothing else may.
var Observe func(v any, f func(took time.Duration, err error))
