package sealkey

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:32] // bytes whose encodings differ by alphabet
	for name, text := range map[string]string{
		"base64url":             base64.RawURLEncoding.EncodeToString(key),
		"base64url padded":      base64.URLEncoding.EncodeToString(key),
		"base64 with a newline": base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(text)
			require.NoError(t, err)
			require.Equal(t, key, got)
		})
	}
	for name, text := range map[string]string{
		"empty":    "",
		"16 bytes": base64.RawURLEncoding.EncodeToString(key[:16]),
		"hex":      hex.EncodeToString(key),
		"garbage":  "not a key at all!",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(text)
			require.ErrorIs(t, err, ErrFormat)
			if text != "" {
				require.NotContains(t, err.Error(), text)
			}
		})
	}
}
