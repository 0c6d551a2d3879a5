package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Limits the oversize phase is judged by.
const (
	oversizeMaxP99 = time.Second
	// The server reads at most net/http's 1 MiB of headers per request
	// (and 16 KiB of body), so its peak memory may grow with the number of
	// requests in flight, not with their size: a fixed allowance plus 4 MiB
	// per concurrent client (the 1 MiB header cap, twice over for GC headroom, plus buffers).
	rssAllowanceFixed     = 16 << 20
	rssAllowancePerClient = 4 << 20
	// The flood phase: the behaving clients' success rate must be at
	// least floodMinSuccess (the goal is 100%; a request lost to a loaded
	// machine's timeout is reported, not hidden), and the server's memory
	// must not grow with the flood's length: resident memory at the end at
	// most floodMaxGrowth above half-way, and peak at most floodMaxPeak.
	floodMinSuccess = 0.999
	floodMaxGrowth  = 16 << 20
	floodMaxPeak    = 256 << 20
)

// finish judges the report, prints it and returns an error if the run
// failed its acceptance criteria.
func finish(rep *report, o options, out io.Writer) error {
	judge(rep, o)
	if o.jsonOut {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(out, rep)
	}
	if len(rep.Failures) > 0 {
		return errors.New("FAILED: " + strings.Join(rep.Failures, "; "))
	}
	return nil
}

func judge(rep *report, o options) {
	fail := func(format string, args ...any) { rep.Failures = append(rep.Failures, fmt.Sprintf(format, args...)) }
	if m := rep.Middleware; m != nil {
		if m.Errors > 0 {
			fail("%d errors with the middleware (%d of them 5xx)", m.Errors, m.Status5xx)
		}
		if m.WrongDecisions > 0 {
			fail("%d wrong decisions", m.WrongDecisions)
		}
		if m.Reloads != o.reloads || m.ReloadErrors > 0 {
			fail("%d of %d reloads ran during the load (%d failed to signal)", m.Reloads, o.reloads, m.ReloadErrors)
		}
	}
	for _, r := range rep.Oversize {
		if r.Refused != r.Sent {
			fail("oversized %s: %d of %d refused with %d", r.Kind, r.Refused, r.Sent, r.Want)
		}
		if r.P99 > oversizeMaxP99 {
			fail("oversized %s: p99 %v above %v", r.Kind, r.P99, oversizeMaxP99)
		}
	}
	if limit := int64(rssAllowanceFixed + rssAllowancePerClient*rep.Clients); rep.PeakBefore > 0 && rep.PeakAfter-rep.PeakBefore > limit {
		fail("peak memory grew by %d MiB during the oversize phase, above %d MiB", (rep.PeakAfter-rep.PeakBefore)>>20, limit>>20)
	}
	if f := rep.Flood; f != nil {
		switch {
		case f.BehavingSent == 0:
			fail("flood: the behaving clients sent nothing")
		case f.SuccessRate < floodMinSuccess:
			fail("flood: behaving clients' success rate %.2f%% below %.1f%%", 100*f.SuccessRate, 100*floodMinSuccess)
		}
		if f.BehavingSent > 0 && f.BehavingSocketSent == 0 {
			fail("flood: the behaving clients sent nothing over their sockets")
		}
		if s := f.Sockets; s.Attempts > 0 {
			switch {
			case s.Upgrades == 0:
				fail("flood: the flooder opened no socket")
			case s.Attempts > 8 && s.Refused == 0:
				fail("flood: the flooder opened %d of %d sockets, none refused 429", s.Upgrades, s.Attempts)
			case s.Frames > 100 && s.Limited == 0:
				fail("flood: %d messages over the flooder's sockets, none rate-limited", s.Frames)
			}
		}
		if f.FloodLimited == 0 || !f.FloodRetryAfter {
			fail("flood: the flooder got %d answers 429 (with Retry-After: %v)", f.FloodLimited, f.FloodRetryAfter)
		}
		if f.RSSHalf > 0 && f.RSSEnd-f.RSSHalf > floodMaxGrowth {
			fail("flood: resident memory grew %d MiB in the second half of the flood", (f.RSSEnd-f.RSSHalf)>>20)
		}
		if f.PeakRSS > floodMaxPeak {
			fail("flood: peak memory %d MiB above %d MiB", f.PeakRSS>>20, floodMaxPeak>>20)
		}
	}
	if b, m := rep.Baseline, rep.Middleware; b != nil && m != nil && b.Throughput > 0 {
		rep.Overhead = 1 - m.Throughput/b.Throughput
		if b.Errors > 0 {
			fail("%d errors in the baseline run (%d of them 5xx)", b.Errors, b.Status5xx)
		}
		if o.maxOverhead > 0 && rep.Overhead > o.maxOverhead {
			fail("throughput overhead %.1f%% above %.0f%%", 100*rep.Overhead, 100*o.maxOverhead)
		}
	}
}

func printReport(w io.Writer, rep *report) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	line := func(name string, r *loadResult) {
		p("%-11s %7d req  %8.0f req/s  p50 %-9v p99 %-9v 5xx %d  errors %d  wrong decisions %d",
			name, r.Requests, r.Throughput, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond),
			r.Status5xx, r.Errors, r.WrongDecisions)
	}
	p("clients: %d", rep.Clients)
	if m := rep.Middleware; m != nil {
		line("msgsec", m)
		p("            mix: %v", m.ByKind)
		p("            policy reloads during the run: %d (final policy %q)", m.Reloads, rep.PolicyFinal)
		for _, pr := range m.Problems {
			p("            ! %s", pr)
		}
	}
	if b := rep.Baseline; b != nil {
		line("baseline", b)
		for _, pr := range b.Problems {
			p("            ! %s", pr)
		}
		p("throughput overhead of msgsec: %.1f%%", 100*rep.Overhead)
	}
	for _, r := range rep.Oversize {
		p("oversized %-6s %4d KiB: %d/%d refused with %d, p99 %v, max %v, peak memory +%d MiB",
			r.Kind, r.Bytes>>10, r.Refused, r.Sent, r.Want, r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond), r.PeakGain>>20)
		for _, pr := range r.Problems {
			p("            ! %s", pr)
		}
	}
	if rep.PeakBefore > 0 {
		p("server memory: rss %d → %d MiB, peak %d → %d MiB across the oversize phase",
			rep.RSSBefore>>20, rep.RSSAfter>>20, rep.PeakBefore>>20, rep.PeakAfter>>20)
	}
	if f := rep.Flood; f != nil {
		p("flood       %.0f s: 1 flooder sent %d requests (%d answered 429, %d accepted); %d behaving clients: %d/%d ok (%.2f%%), p99 %v",
			f.Seconds, f.FloodSent, f.FloodLimited, f.FloodAccepted, f.Behaving, f.BehavingOK, f.BehavingSent, 100*f.SuccessRate, f.BehavingP99.Round(time.Microsecond))
		p("            %d of the behaving messages over a WebSocket: %d/%d echoed", f.BehavingSocketSent, f.BehavingSocketOK, f.BehavingSocketSent)
		s := f.Sockets
		p("            flooder sockets: %d of %d upgrades opened (%d refused 429); %d messages over them: %d rate-limited, %d other errors, %d stored",
			s.Upgrades, s.Attempts, s.Refused, s.Frames, s.Limited, s.OtherErrors, s.Stored)
		p("            server memory: rss %d MiB before, %d MiB half-way, %d MiB at the end, peak %d MiB",
			rep.RSSFloodStart>>20, f.RSSHalf>>20, f.RSSEnd>>20, f.PeakRSS>>20)
		for _, pr := range f.Problems {
			p("            ! %s", pr)
		}
	}
	if len(rep.Failures) == 0 {
		p("PASS")
		return
	}
	for _, f := range rep.Failures {
		p("FAIL: %s", f)
	}
}
