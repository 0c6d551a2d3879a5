// Command benchplot draws BENCHMARKS.md's pictures from `go test -bench`
// output, as SVG, with no dependency and no network:
//
//	go run ./scripts/benchplot -in bench.txt -out docs/bench
//
// It writes origins.svg (decision time against the number of allowed
// origins, from BenchmarkAllowsScale: msgsec and rs/cors, log-log) and
// verify.svg (Verify latency by replay backend, from
// BenchmarkVerifyReplay), each point the median of the runs in the input.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "-", "benchmark output (`FILE`, - for stdin)")
	out := flag.String("out", "docs/bench", "`DIR` to write the SVG files to")
	flag.Parse()
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	wrote := 0
	if svg, ok := originsChart(res); ok {
		write(filepath.Join(*out, "origins.svg"), svg)
		wrote++
	}
	if svg, ok := verifyChart(res); ok {
		write(filepath.Join(*out, "verify.svg"), svg)
		wrote++
	}
	if wrote == 0 {
		fail(fmt.Errorf("no BenchmarkAllowsScale or BenchmarkVerifyReplay results in the input"))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchplot:", err)
	os.Exit(1)
}

func write(path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		fail(err)
	}
	fmt.Println("wrote", path)
}

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// ns/op of every run.
type results map[string][]float64

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, err
		}
		res[m[1]] = append(res[m[1]], v)
	}
	return res, sc.Err()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type point struct{ x, y float64 }

type series struct {
	name   string
	color  string
	points []point
}

var scaleName = regexp.MustCompile(`^BenchmarkAllowsScale/n=(\d+)/(.+)$`)

func originsChart(res results) (string, bool) {
	by := map[string][]point{}
	for name, v := range res {
		m := scaleName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		by[m[2]] = append(by[m[2]], point{n, median(v)})
	}
	if len(by) == 0 {
		return "", false
	}
	colors := map[string]string{"msgsec": "#1f3a5f", "rs-cors": "#c0392b", "jub0bs-cors": "#8e7cc3"}
	var ss []series
	for name, pts := range by {
		sort.Slice(pts, func(i, j int) bool { return pts[i].x < pts[j].x })
		c := colors[name]
		if c == "" {
			c = "#777777"
		}
		ss = append(ss, series{name: name, color: c, points: pts})
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].name < ss[j].name })
	return logLog("Origin decision time (a hit and a miss) against the number of allowed origins",
		"allowed origins", "ns per decision pair", ss), true
}

// logLog draws series on log-log axes.
func logLog(title, xLabel, yLabel string, ss []series) string {
	const w, h, left, right, top, bottom = 720.0, 420.0, 80.0, 150.0, 50.0, 60.0
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.points {
			minX, maxX = math.Min(minX, p.x), math.Max(maxX, p.x)
			minY, maxY = math.Min(minY, p.y), math.Max(maxY, p.y)
		}
	}
	lx0, lx1 := math.Floor(math.Log10(minX)), math.Ceil(math.Log10(maxX))
	ly0, ly1 := math.Floor(math.Log10(minY)), math.Ceil(math.Log10(maxY))
	if lx1 == lx0 {
		lx1++
	}
	if ly1 == ly0 {
		ly1++
	}
	px := func(x float64) float64 { return left + (math.Log10(x)-lx0)/(lx1-lx0)*(w-left-right) }
	py := func(y float64) float64 { return h - bottom - (math.Log10(y)-ly0)/(ly1-ly0)*(h-top-bottom) }
	var b strings.Builder
	header(&b, w, h, title)
	for e := lx0; e <= lx1; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e6ea"/>`+"\n", x, top, x, h-bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, h-bottom+18, human(math.Pow(10, e)))
	}
	for e := ly0; e <= ly1; e++ {
		y := py(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e6ea"/>`+"\n", left, y, w-right, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, human(math.Pow(10, e)))
	}
	axes(&b, w, h, left, right, top, bottom, xLabel, yLabel)
	for i, s := range ss {
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.x), py(p.y)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
		for _, p := range s.points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s origins, %s ns</title></circle>`+"\n",
				px(p.x), py(p.y), s.color, s.name, human(p.x), strconv.FormatFloat(p.y, 'f', 1, 64))
		}
		ly := top + 20 + float64(i)*22
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="14" height="4" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`+"\n",
			w-right+16, ly-4, s.color, w-right+36, ly+1, s.name)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

var verifyName = regexp.MustCompile(`^BenchmarkVerifyReplay/(.+)$`)

func verifyChart(res results) (string, bool) {
	type bar struct {
		name string
		ns   float64
	}
	var bars []bar
	for name, v := range res {
		if m := verifyName.FindStringSubmatch(name); m != nil {
			bars = append(bars, bar{m[1], median(v)})
		}
	}
	if len(bars) == 0 {
		return "", false
	}
	sort.Slice(bars, func(i, j int) bool { return bars[i].ns < bars[j].ns })
	const left, right, top, rowH = 220.0, 110.0, 50.0, 30.0
	w := 720.0
	h := top + rowH*float64(len(bars)) + 50
	maxNS := 0.0
	for _, b := range bars {
		maxNS = math.Max(maxNS, b.ns)
	}
	var b strings.Builder
	header(&b, w, h, "Verify (HS256) with the replay check, by replay-cache backend")
	for i, br := range bars {
		y := top + float64(i)*rowH
		bw := br.ns / maxNS * (w - left - right)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+rowH/2+4, br.name)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f3a5f"/>`+"\n", left, y+5, math.Max(bw, 1), rowH-10)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", left+math.Max(bw, 1)+6, y+rowH/2+4, micro(br.ns))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">latency per verification (median)</text>`+"\n", left+(w-left-right)/2, h-15)
	b.WriteString("</svg>\n")
	return b.String(), true
}

func header(b *strings.Builder, w, h float64, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="system-ui, sans-serif" font-size="12" fill="#1b1f24">`+"\n", w, h, w, h)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(b, `<text x="%.1f" y="28" text-anchor="middle" font-size="14" font-weight="600">%s</text>`+"\n", w/2, escape(title))
}

func axes(b *strings.Builder, w, h, left, right, top, bottom float64, xLabel, yLabel string) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1b1f24"/>`+"\n", left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1b1f24"/>`+"\n", left, top, left, h-bottom)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", left+(w-left-right)/2, h-15, escape(xLabel))
	fmt.Fprintf(b, `<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">%s</text>`+"\n", top+(h-top-bottom)/2, top+(h-top-bottom)/2, escape(yLabel))
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func micro(ns float64) string {
	if ns >= 1000 {
		return strconv.FormatFloat(ns/1000, 'f', 1, 64) + " µs"
	}
	return strconv.FormatFloat(ns, 'f', 0, 64) + " ns"
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
