package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/msgsec/msgsec/internal/redisurl"
	"github.com/msgsec/msgsec/secretdata"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	clients, requests, reloads, oversize int
	timeout                              time.Duration
	flood                                time.Duration
	floodClients                         int
	baseline                             bool
	serverProcs                          int
	maxOverhead                          float64
	chatserver, redis, target            string
	jsonOut                              bool
}

// Bounds: the tool must stay a test, not a flood.
const (
	maxClients  = 256
	maxRequests = 1_000_000
	maxReloads  = 10_000
	maxOversize = 1_000
	maxTimeout  = 30 * time.Minute
)

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.clients, "clients", 16, "concurrent clients (at most 256)")
	fs.IntVar(&o.requests, "requests", 100_000, "requests per load run (at most 1,000,000)")
	fs.IntVar(&o.reloads, "reloads", 100, "policy reloads (SIGHUP) during the middleware run")
	fs.IntVar(&o.oversize, "oversize", 100, "oversized requests of each kind (0 skips the phase)")
	fs.DurationVar(&o.flood, "flood", 10*time.Second, "flood phase length, with the chat server's default limits (0 skips it; at most 5m)")
	fs.IntVar(&o.floodClients, "flood-clients", 15, "behaving clients during the flood (at most 200)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "stop everything after this long (at most 30m)")
	fs.IntVar(&o.serverProcs, "server-procs", 0, "GOMAXPROCS of the chat servers started (0: inherit)")
	fs.BoolVar(&o.baseline, "baseline", true, "also run the load against chatserver -no-middleware")
	fs.Float64Var(&o.maxOverhead, "max-overhead", 0.20, "fail if throughput with msgsec is more than this fraction below the baseline (0: do not check)")
	fs.StringVar(&o.chatserver, "chatserver", "", "a prebuilt examples/chatserver binary (default: go build it)")
	fs.StringVar(&o.redis, "redis", "", "Redis `URL` on loopback passed to the chat server's -redis: "+redisurl.Forms)
	fs.StringVar(&o.target, "target", "", "load an already running chat server at this loopback URL instead (no reloads, oversize memory or baseline); it must run the policy `loadtest -print-policy` prints, with its secret in "+secretEnv)
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON")
	printPolicy := fs.Bool("print-policy", false, "print the load-test policy file and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *printPolicy {
		_, _ = out.Write(policyYAML(1))
		return o, flag.ErrHelp
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	case o.clients < 1 || o.clients > maxClients:
		return o, fmt.Errorf("-clients must be between 1 and %d", maxClients)
	case o.requests < o.clients || o.requests > maxRequests:
		return o, fmt.Errorf("-requests must be between -clients and %d", maxRequests)
	case o.reloads < 0 || o.reloads > maxReloads:
		return o, fmt.Errorf("-reloads must be between 0 and %d", maxReloads)
	case o.oversize < 0 || o.oversize > maxOversize:
		return o, fmt.Errorf("-oversize must be between 0 and %d", maxOversize)
	case o.flood < 0 || o.flood > 5*time.Minute:
		return o, errors.New("-flood must be between 0 and 5m")
	case o.floodClients < 1 || o.floodClients > 200:
		return o, errors.New("-flood-clients must be between 1 and 200")
	case o.timeout <= 0 || o.timeout > maxTimeout:
		return o, fmt.Errorf("-timeout must be between 0 and %v", maxTimeout)
	case o.serverProcs < 0 || o.serverProcs > 256:
		return o, errors.New("-server-procs must be between 0 and 256")
	case o.maxOverhead < 0 || o.maxOverhead >= 1:
		return o, errors.New("-max-overhead must be in [0, 1)")
	}
	if o.redis != "" {
		if err := checkRedisLoopback(o.redis); err != nil {
			return o, err
		}
	}
	if o.target != "" {
		if err := checkLoopback(o.target); err != nil {
			return o, err
		}
		o.baseline, o.reloads, o.flood = false, 0, 0
	}
	return o, nil
}

// report is everything one invocation measured.
type report struct {
	Clients       int              `json:"clients"`
	Middleware    *loadResult      `json:"middleware"`
	PolicyFinal   string           `json:"policy_after_reloads,omitempty"`
	Oversize      []oversizeResult `json:"oversize,omitempty"`
	RSSBefore     int64            `json:"rss_before_oversize_bytes,omitempty"`
	RSSAfter      int64            `json:"rss_after_oversize_bytes,omitempty"`
	PeakBefore    int64            `json:"peak_rss_before_oversize_bytes,omitempty"`
	PeakAfter     int64            `json:"peak_rss_after_oversize_bytes,omitempty"`
	Baseline      *loadResult      `json:"baseline,omitempty"`
	Flood         *floodResult     `json:"flood,omitempty"`
	RSSFloodStart int64            `json:"rss_before_flood_bytes,omitempty"`
	Overhead      float64          `json:"throughput_overhead"` // 1 - with/without
	Failures      []string         `json:"failures,omitempty"`
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	secret := newSecret()
	if o.target != "" {
		if secret = []byte(strings.TrimSpace(os.Getenv(secretEnv))); len(secret) < 32 {
			return fmt.Errorf("-target needs the policy's secret in %s, as `msgsec secret new` printed it (at least 32 characters)", secretEnv)
		}
	}
	signer, err := newSigner(secret)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "msgsec-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	rep := &report{Clients: o.clients}
	if o.target != "" {
		if rep.Middleware, err = warmAndLoad(ctx, o, loadConfig{base: strings.TrimSuffix(o.target, "/"), signer: signer, check: true}); err != nil {
			return err
		}
		return finish(rep, o, out)
	}

	bin := o.chatserver
	if bin == "" {
		if bin, err = buildChatServer(ctx, dir); err != nil {
			return err
		}
	}
	var extra []string
	if o.redis != "" {
		extra = append(extra, "-redis", o.redis)
	}
	load := extra
	if supportsFlag(bin, "message-rate") {
		load = append(slices.Clone(extra), liftedLimits...)
	}
	if err := middlewareRun(ctx, o, bin, dir, secret, signer, load, rep); err != nil {
		return err
	}
	if o.baseline {
		if !supportsFlag(bin, "no-middleware") {
			rep.Failures = append(rep.Failures, "baseline not measured: this chatserver has no -no-middleware flag")
		} else if err := baselineRun(ctx, o, bin, dir, secret, signer, load, rep); err != nil {
			return err
		}
	}
	if o.flood > 0 {
		if !supportsFlag(bin, "message-rate") {
			rep.Failures = append(rep.Failures, "flood not measured: this chatserver has no rate limits")
		} else if err := floodRun(ctx, o, bin, dir, secret, signer, extra, rep); err != nil {
			return err
		}
	}
	return finish(rep, o, out)
}

func middlewareRun(ctx context.Context, o options, bin, dir string, secret []byte, signer *secretdata.Signer, extra []string, rep *report) error {
	srv, err := startServer(ctx, bin, dir, secret, serverEnv(o), extra...)
	if err != nil {
		return err
	}
	defer srv.stop()
	cfg := loadConfig{base: srv.base, signer: signer, check: true, reload: srv.reload, reloads: o.reloads}
	if rep.Middleware, err = warmAndLoad(ctx, o, cfg); err != nil {
		return err
	}
	if o.reloads > 0 {
		want := fmt.Sprintf("load test v%d", srv.version)
		rep.PolicyFinal, err = waitPolicyName(ctx, srv.base, want)
		if err != nil {
			rep.Failures = append(rep.Failures, err.Error())
		}
	}
	if o.oversize > 0 {
		rep.RSSBefore, rep.PeakBefore, _ = srv.memory()
		rep.Oversize, err = oversizePhase(ctx, srv.base, o.oversize, o.clients, func() (string, error) { return openSession(ctx, srv.base, signer) },
			func() int64 { _, peak, _ := srv.memory(); return peak })
		if err != nil {
			return err
		}
		rep.RSSAfter, rep.PeakAfter, _ = srv.memory()
	}
	return nil
}

func baselineRun(ctx context.Context, o options, bin, dir string, secret []byte, signer *secretdata.Signer, extra []string, rep *report) error {
	srv, err := startServer(ctx, bin, dir, secret, serverEnv(o), append(extra, "-no-middleware")...)
	if err != nil {
		return err
	}
	defer srv.stop()
	rep.Baseline, err = warmAndLoad(ctx, o, loadConfig{base: srv.base, signer: signer})
	return err
}

// floodRun runs the flood phase against a fresh chat server with its
// default limits.
func floodRun(ctx context.Context, o options, bin, dir string, secret []byte, signer *secretdata.Signer, extra []string, rep *report) error {
	srv, err := startServer(ctx, bin, dir, secret, serverEnv(o), extra...)
	if err != nil {
		return err
	}
	defer srv.stop()
	rep.RSSFloodStart, _, _ = srv.memory()
	rep.Flood, err = runFlood(ctx, floodConfig{base: srv.base, signer: signer, behaving: o.floodClients, duration: o.flood, memory: srv.memory})
	return err
}

// warmAndLoad runs a short unmeasured warm-up (connections, JIT-free but
// cache-cold paths), then the measured run.
func warmAndLoad(ctx context.Context, o options, cfg loadConfig) (*loadResult, error) {
	cfg.clients = o.clients
	warm := cfg
	warm.requests, warm.reload = max(o.clients, o.requests/10), nil
	if _, err := runLoad(ctx, warm); err != nil {
		return nil, err
	}
	cfg.requests = o.requests
	return runLoad(ctx, cfg)
}

// serverEnv is the environment added for the chat servers started.
func serverEnv(o options) []string {
	if o.serverProcs > 0 {
		return []string{"GOMAXPROCS=" + strconv.Itoa(o.serverProcs)}
	}
	return nil
}

func newSigner(secret []byte) (*secretdata.Signer, error) {
	k, err := secretdata.NewHMACKey(keyID, secretdata.HS256, secret)
	if err != nil {
		return nil, err
	}
	return secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: issuer, Audience: connectionID})
}

// supportsFlag reports whether bin -h lists -name.
func supportsFlag(bin, name string) bool {
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	return strings.Contains(string(out), "-"+name)
}

// openSession opens one chat session from an allowed origin.
func openSession(ctx context.Context, base string, signer *secretdata.Signer) (string, error) {
	w := &worker{cfg: &loadConfig{base: base, signer: signer, check: true}, client: http.DefaultClient}
	w.do(ctx, messageIndex())
	if w.session == "" {
		return "", fmt.Errorf("could not open a session: %v", w.problems)
	}
	return w.session, nil
}

// messageIndex is an index of the mix that asks for a message, so a
// worker without a session opens one.
func messageIndex() int {
	for i, k := range cycle {
		if k == messageAllowed {
			return i
		}
	}
	return 0
}

// waitPolicyName polls GET …/config until the connection's name is want
// (the last reload applied) or 10 seconds pass.
func waitPolicyName(ctx context.Context, base, want string) (string, error) {
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/connections/"+connectionID+"/config", nil)
		req.Header.Set("Origin", allowedOrigins[0])
		if resp, err := http.DefaultClient.Do(req); err == nil {
			var c struct{ Name string }
			_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&c)
			resp.Body.Close()
			if got = c.Name; got == want {
				return got, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got, fmt.Errorf("policy after reloads is %q, want %q: the last reload did not apply", got, want)
}
