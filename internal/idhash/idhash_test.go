package idhash_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/msgsec/msgsec/internal/idhash"
)

func TestOf(t *testing.T) {
	a := idhash.Of("session-secret-1")
	assert.Equal(t, a, idhash.Of("session-secret-1"), "stable within a process")
	assert.NotEqual(t, a, idhash.Of("session-secret-2"))
	assert.True(t, strings.HasPrefix(a, idhash.Prefix))
	assert.Len(t, a, len(idhash.Prefix)+12)
	assert.NotContains(t, a, "session-secret")
	assert.Empty(t, idhash.Of(""))
}

func TestPath(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no session", "/connections/c/widget", "/connections/c/widget"},
		{"session then more", "/connections/c/sessions/abc/messages", "/connections/c/sessions/" + idhash.Of("abc") + "/messages"},
		{"session last", "/connections/c/sessions/abc", "/connections/c/sessions/" + idhash.Of("abc")},
		{"collection only", "/connections/c/sessions", "/connections/c/sessions"},
		{"twice", "/sessions/a/sessions/b", "/sessions/" + idhash.Of("a") + "/sessions/" + idhash.Of("b")},
		{"trailing slash", "/connections/c/sessions/", "/connections/c/sessions/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, idhash.Path(tc.in))
		})
	}
}
