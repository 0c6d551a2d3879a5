// Package keyhint lets package policy attach to an HMAC key what the chat
// operator needs to know when a signature made with it does not verify:
// how the policy turned the secret's text into key bytes. The hint is part
// of the verifier's error reason (and so of middleware and delivery
// events); it never holds key material. It is kept out of package
// secretdata's API: only policy knows about encodings.
package keyhint

// With returns a copy of key (a secretdata.Key) whose "signature does not
// verify" reason ends with hint in parentheses. Package secretdata sets it
// in its init; nothing else may.
var With func(key any, hint string) any

// Of returns the hint a verification error carries ("" when none): the
// one of the HMAC key whose signature did not verify. Package secretdata
// sets it in its init; middleware and delivery add it to their event
// reasons.
var Of func(err error) string
