package cookies

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestByteClasses(t *testing.T) {
	// Checked against the RFC grammars byte by byte.
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := 0; c < 256; c++ {
		b := byte(c)
		assert.Equal(t, strings.IndexByte(tchar, b) >= 0, isTokenByte(b), "isTokenByte(%#x)", c)
		wantOctet := c == 0x21 || (0x23 <= c && c <= 0x2b) || (0x2d <= c && c <= 0x3a) ||
			(0x3c <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e)
		assert.Equal(t, wantOctet, isOctetByte(b), "isOctetByte(%#x)", c)
	}
}
