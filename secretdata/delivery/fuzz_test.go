package delivery_test

import (
	"bytes"
	"encoding/hex"
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

// goodSealedHex is testClaims sealed with storeKey32 for (connA, sessA)
// until t0 + 1h.
const goodSealedHex = "012ee367e2e765f6a34f64ee1116ae24bae3ac9a3071fcfcc3a9fc3637131fe819f2dc89f2bb1d5f47c742f6b6d654ad780da2b3010d4e67646821f9384412bbab7ff7e3598edbc9b7fd7fb778f5bce3e97a99a641004f2197f4d1f8bb16a82ba1b98320241777d9ca42afbb552902f27f14093e11e4556e92215d3b2894889f8c849f513111654ae3823084c45b37a66f6cfc5cb46636182aa5bd81529a429ab19b510c7ea035c56c75d7cdae9cb480f66ff6a37753320ad618c3813d829ad6582490f27475127e75aa8909d6262bc7b1d33a961824da21fcec72c9eb559ad352abdcd134eb50f0dc3e25554dc40a04a1a0219200785aceb311e01c1d03c2b4164286870073b326f5c0dc56ad590ece2a746b9a438464e5d810e8e916ae01ddc9a30d760b54fabfb1be5dcd8ae18e6de123bda66983c6475f070bc8cb53bd35a9d7d4d252a92796949409abc4051e113d06244453642d5d76d3d2414fd0056c48b503cedc8c7350f6b322135504d78e63f7a3007d11a7bfbec2181c3e39e8f56165fe5c20c676cad4c47ca5cb13efa7cdba7946a7dd0d37"

// FuzzOpenClaims: arbitrary bytes never open, and never panic.
func FuzzOpenClaims(f *testing.F) {
	s, err := delivery.NewSealer(storeKey32)
	require.NoError(f, err)
	// good is fixed (not sealed here: each fuzz worker would draw another
	// nonce), so "only good opens" is the same claim in every process.
	good, _ := hex.DecodeString(goodSealedHex)
	if _, err := s.OpenClaims(connA, sessA, good, t0); err != nil {
		f.Fatal("the fixed sealed sample no longer opens: ", err)
	}
	f.Add(good, sessA)
	f.Add(good[:len(good)-1], sessA)
	f.Add([]byte{1}, sessA)
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, sealed []byte, session string) {
		c, err := s.OpenClaims(connA, session, sealed, t0)
		if err == nil {
			require.True(t, session == sessA && bytes.Equal(sealed, good), "forged bytes opened: %v", c)
		}
	})
}
