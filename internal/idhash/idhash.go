// Package idhash turns per-user identifiers (chat session IDs) into short
// keyed hashes for logs and events, so a log line can be correlated with
// others from the same process without carrying the identifier itself.
//
// The key is random per process: hashes are stable within one process and
// mean nothing outside it (an identifier cannot be confirmed by hashing a
// guess elsewhere, and logs from two runs cannot be joined).
package idhash

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Prefix starts every hash, so a reader sees it is not the identifier.
const Prefix = "h:"

var key = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("idhash: " + err.Error())
	}
	return k
}()

// Of returns Prefix + 12 hex digits (48 bits) of HMAC-SHA256(key, id), or
// "" for an empty id.
func Of(id string) string {
	if id == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	var sum [sha256.Size]byte
	return Prefix + hex.EncodeToString(m.Sum(sum[:0])[:6])
}

// Path returns p with the segment after each "sessions" segment replaced
// by its hash ("/connections/c/sessions/abc/messages" →
// "/connections/c/sessions/h:…/messages"). Paths without such a segment are
// returned as they are, without allocating.
func Path(p string) string {
	const seg = "/sessions/"
	i := strings.Index(p, seg)
	if i < 0 {
		return p
	}
	var b strings.Builder
	for i >= 0 {
		start := i + len(seg)
		b.WriteString(p[:start])
		p = p[start:]
		end := strings.IndexByte(p, '/')
		if end < 0 {
			end = len(p)
		}
		b.WriteString(Of(p[:end]))
		p = p[end:]
		i = strings.Index(p, seg)
	}
	b.WriteString(p)
	return b.String()
}
