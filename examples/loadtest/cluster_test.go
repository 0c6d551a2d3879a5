package main

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
)

// TestLoadOnCluster runs a short load against a chat server on a
// 3-primary Redis Cluster, named by one node's redis:// URL (the
// single-endpoint case: the server finds cluster mode itself), and
// reports how the keys it created spread over the Cluster's slots. The
// load tool fails on any 5xx, so a CROSSSLOT error in the server would
// fail it.
func TestLoadOnCluster(t *testing.T) {
	bin := buildBin(t)
	cl := testenv.StartCluster(t)
	var out bytes.Buffer
	args := []string{"-chatserver", bin, "-redis", cl.NodeURL(0), "-clients", "4", "-requests", "800", "-reloads", "0",
		"-oversize", "0", "-flood", "0", "-baseline=false", "-max-overhead", "0", "-timeout", "2m"}
	require.NoErrorf(t, run(context.Background(), args, &out), "%s", out.String())
	require.Contains(t, out.String(), "wrong decisions 0")

	// Keys by kind: msgsec:replay:…, msgsec:sd:…, msgsec:chat:{…}:s|m,
	// msgsec:chat:index.
	kinds := map[string]map[int64]int{}
	all := map[int64]bool{}
	keys := cl.Keys(t, "msgsec:*")
	ctx := context.Background()
	c := cl.Client(t)
	for _, k := range keys {
		kind := strings.SplitN(k, ":", 3)[1]
		if kind == "chat" {
			kind = "chat " + k[strings.LastIndexByte(k, ':')+1:]
		}
		slot, err := c.ClusterKeySlot(ctx, k).Result()
		require.NoError(t, err)
		if kinds[kind] == nil {
			kinds[kind] = map[int64]int{}
		}
		kinds[kind][slot]++
		all[slot] = true
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		n := 0
		for _, c := range kinds[k] {
			n += c
		}
		t.Logf("slot spread: %-12s %5d keys on %5d slots", k, n, len(kinds[k]))
	}
	t.Logf("slot spread: all          %5d keys on %5d slots (of 16384)", len(keys), len(all))
	require.NotEmpty(t, kinds["replay"])
	require.NotEmpty(t, kinds["chat s"])
	for _, k := range []string{"replay", "chat s", "chat m"} {
		n := 0
		for _, c := range kinds[k] {
			n += c
		}
		require.Greater(t, len(kinds[k]), n*8/10, "%s keys spread over the slots", k)
	}
}
