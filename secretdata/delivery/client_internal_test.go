package delivery

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultBackoff(t *testing.T) {
	for retry := 1; retry <= 40; retry++ {
		for range 50 {
			d := defaultBackoff(retry)
			limit := min(backoffBase<<min(retry, 6), backoffCap)
			require.Positive(t, d, "retry %d", retry)
			require.LessOrEqual(t, d, limit, "retry %d", retry)
		}
	}
}
