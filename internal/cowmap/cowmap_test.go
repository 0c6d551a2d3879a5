package cowmap

import (
	"strconv"
	"sync"
	"testing"
)

func TestBoundedAndConcurrent(t *testing.T) {
	m := New[string, int](100)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := strconv.Itoa(g*1000 + i)
				m.Add(k, i)
				if v, ok := m.Get(k); ok && v != i {
					t.Errorf("Get(%s) = %d, want %d", k, v, i)
				}
			}
		}(g)
	}
	wg.Wait()
	if m.Len() != 100 {
		t.Fatalf("Len = %d, want the bound 100", m.Len())
	}
	m.Add("first", 1)
	m.Add("first", 2)
	if _, ok := m.Get("first"); ok {
		t.Fatal("a full map took a new key")
	}
	n := 0
	m.Range(func(string, int) { n++ })
	if n != 100 {
		t.Fatalf("Range saw %d entries", n)
	}
}

func TestFirstValueKept(t *testing.T) {
	m := New[int, string](10)
	m.Add(1, "a")
	m.Add(1, "b")
	if v, _ := m.Get(1); v != "a" {
		t.Fatalf("got %q", v)
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Get(1) }); allocs != 0 {
		t.Fatalf("Get allocates %v", allocs)
	}
}
