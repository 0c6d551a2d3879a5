// Package sealkey reads a policy store's sealing key as operators write
// it: 32 random bytes in base64url, as `msgsec secret new --jwe` prints
// (padding optional; the standard base64 alphabet of
// `head -c32 /dev/urandom | base64` is read too). The command line and the
// example chat server share it so that both take the same text.
package sealkey

import (
	"encoding/base64"
	"errors"
	"strings"
)

// Size is a sealing key's length in bytes.
const Size = 32

// ErrFormat: the text is not 32 bytes in base64url or base64. It never
// quotes the text.
var ErrFormat = errors.New("the sealing key must be 32 bytes in base64url (msgsec secret new --jwe prints one) or base64")

// Parse decodes a sealing key. Surrounding whitespace (a file's final
// newline) is ignored.
func Parse(text string) ([]byte, error) {
	s := strings.TrimRight(strings.TrimSpace(text), "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == Size {
			return b, nil
		}
	}
	return nil, ErrFormat
}
