// Package originview is what package policy reads of an allowed-domain
// pattern beyond package origin's public API (its lint needs the pattern's
// kind and whether it is a secure context; no user does).
package originview

// Classify reports, for a valid pattern, whether it is "*" (any website)
// and whether every origin it admits is a secure context (https, or http
// on a loopback host); ok is false for an invalid pattern. Package origin
// sets it in its init; nothing else may.
var Classify func(pattern string) (anyWebsite, secure, ok bool)
