package cookies_test

import (
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
	"github.com/stretchr/testify/assert"
)

func TestReasonString(t *testing.T) {
	seen := map[string]bool{}
	for r := cookies.ReasonTooManyPairs; r <= cookies.ReasonTotalTooLarge; r++ {
		s := r.String()
		assert.NotEmpty(t, s)
		assert.False(t, strings.HasPrefix(s, "reason("), "Reason(%d) has no description", r)
		assert.Equal(t, strings.ToLower(s), s, "Reason(%d) is lowercase", r)
		assert.False(t, seen[s], "Reason(%d) = %q is not unique", r, s)
		seen[s] = true
		b, err := r.MarshalText()
		assert.NoError(t, err)
		assert.Equal(t, s, string(b))
	}
	assert.Equal(t, "reason(0)", cookies.Reason(0).String())
	assert.Equal(t, "reason(13)", (cookies.ReasonTotalTooLarge + 1).String())
}

func TestDropString(t *testing.T) {
	assert.Equal(t, "page_viewed: duplicate name", cookies.Drop{Name: "page_viewed", Reason: cookies.ReasonDuplicate}.String())
	assert.Equal(t, ": more pairs than a browser sends", cookies.Drop{Reason: cookies.ReasonTooManyPairs}.String())
}
