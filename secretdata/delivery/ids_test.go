package delivery_test

import (
	"net/url"
	gopath "path"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata/delivery"
)

// FuzzValidID checks that an accepted ID survives URL path escaping and
// path cleaning unchanged, so Client and Handler agree on it and a router
// cannot clean it into another route.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"retail-bank", "..", ".", "a/b", "a%2Fb", "a b", "sess:1@x+y=z", "~", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !delivery.ValidID(id) {
			return
		}
		require.Equal(t, id, url.PathEscape(id), "%q changes when escaped", id)
		p := "/connections/" + id + "/sessions/" + id + "/secret-data"
		require.Equal(t, p, gopath.Clean(p), "%q changes when cleaned", p)
		u, err := url.Parse("https://x" + p)
		require.NoError(t, err)
		require.Equal(t, p, u.Path, "%q does not parse back", p)
	})
}
