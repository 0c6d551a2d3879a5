package cowmap_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/cowmap"
)

func TestBoundedAndConcurrent(t *testing.T) {
	m := cowmap.New[string, int](100)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := strconv.Itoa(g*1000 + i)
				m.Add(k, i)
				if v, ok := m.Get(k); ok {
					assert.Equalf(t, i, v, "Get(%s)", k)
				}
			}
		}(g)
	}
	wg.Wait()
	require.Equal(t, 100, m.Len(), "Len is the bound")
	m.Add("first", 1)
	m.Add("first", 2)
	_, ok := m.Get("first")
	require.False(t, ok, "a full map took a new key")
	n := 0
	m.Range(func(string, int) { n++ })
	require.Equal(t, 100, n, "Range sees every entry")
}

func TestFirstValueKept(t *testing.T) {
	m := cowmap.New[int, string](10)
	m.Add(1, "a")
	m.Add(1, "b")
	v, _ := m.Get(1)
	require.Equal(t, "a", v)
	require.Zero(t, testing.AllocsPerRun(100, func() { m.Get(1) }), "Get allocates")
}
