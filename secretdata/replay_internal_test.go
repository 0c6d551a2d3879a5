package secretdata

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExpiryHeapOrder(t *testing.T) {
	var h expiryHeap
	exps := []int64{5, 3, 9, 1, 7, 3, 8, 2, 6, 4, 0}
	for _, e := range exps {
		h.push(expiryEntry{exp: e})
	}
	var got []int64
	for len(h) > 0 {
		got = append(got, h.pop().exp)
	}
	require.Equal(t, []int64{0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9}, got)
}
