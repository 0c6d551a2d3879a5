// Package cfgerr is msgsec's one vocabulary of configuration errors. Most
// users of msgsec have no use for it: every constructor's error prints
// what is wrong. Use it to walk the problems one by one (a CLI, an admin
// console that marks each offending field).
//
// Every msgsec constructor that validates a configuration —
// origin.NewMatcher, cookies.NewAllowlist, secretdata.NewSigner,
// secretdata.NewVerifier, delivery's and redisstore's constructors, and
// policy's loaders — checks all of it before it returns, and reports every
// problem at once: an error whose tree (errors.Join) holds one [*Error] per
// problem, each naming the field, the offending value (redacted when it is
// secret) and why. [All] walks them. Each [*Error] wraps its package's
// sentinel, so errors.Is(err, origin.ErrInvalidPattern) and the like keep
// working.
//
// # Example
//
//	_, err := origin.NewMatcher([]string{"https://*.com", "null"})
//	for e := range cfgerr.All(err) {
//		fmt.Println(e.Field, e.Value, e.Reason)
//	}
package cfgerr
