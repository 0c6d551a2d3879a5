package main

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
BenchmarkAllowsScale/n=10/msgsec-2         	1000	        60.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAllowsScale/n=10/msgsec-2         	1000	        70.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAllowsScale/n=10/msgsec-2         	1000	        65.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkAllowsScale/n=1000/msgsec-2       	1000	        55.0 ns/op
BenchmarkAllowsScale/n=10/rs-cors-2        	1000	       120.0 ns/op
BenchmarkAllowsScale/n=1000/rs-cors-2      	1000	      2800.0 ns/op
BenchmarkVerifyReplay/memory-2             	1000	      3300 ns/op
BenchmarkVerifyReplay/redis-2              	1000	     20000 ns/op
`

func TestParseTakesMedians(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Equal(t, 65.0, median(res["BenchmarkAllowsScale/n=10/msgsec"]))
	require.Equal(t, []float64{20000}, res["BenchmarkVerifyReplay/redis"])
}

func TestChartsAreValidSVGWithEveryPoint(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	svg, ok := originsChart(res)
	require.True(t, ok)
	require.NoError(t, xml.Unmarshal([]byte(svg), new(struct{})), "well-formed XML")
	require.Equal(t, 4, strings.Count(svg, "<circle"), "one dot per (series, n)")
	require.Contains(t, svg, "msgsec: 10 origins, 65.0 ns", "the median")
	require.Contains(t, svg, "rs-cors: 1k origins, 2800.0 ns")
	svg, ok = verifyChart(res)
	require.True(t, ok)
	require.NoError(t, xml.Unmarshal([]byte(svg), new(struct{})))
	require.Less(t, strings.Index(svg, ">memory<"), strings.Index(svg, ">redis<"), "fastest first")
	require.Contains(t, svg, "20.0 µs")
	_, ok = verifyChart(results{})
	require.False(t, ok)
}
