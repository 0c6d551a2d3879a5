package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// RegistryOptions configure a Registry.
type RegistryOptions struct {
	Load    LoadOptions
	Compile CompileOptions
	// Logf, when set, hears about reloads done by the watchers, and about
	// every key a JWKS fetch (the first and each refresh) skips, with its
	// kid or index and why (never secrets or key material).
	Logf func(format string, args ...any)
	// OnReload, if set, hears the outcome of every load: the first (in
	// NewRegistry), each Reload and each watcher's reload. s is the
	// snapshot in force afterwards (the new one, or on failure the one
	// kept; nil when the first load failed); err is why the load failed,
	// nil when s was swapped in. It runs while the registry holds its
	// reload lock, so outcomes arrive in order: it must not call Reload or
	// Close (Get and Snapshot are fine). It exists for metrics (package
	// otelmetrics); err never holds secret values.
	OnReload func(s *Snapshot, err error)
}

// Snapshot is one consistent set of compiled policies, as loaded by one
// successful (re)load. It is immutable.
type Snapshot struct {
	byID    map[string]*Compiled
	ids     []string
	version uint64
	digest  [32]byte
}

// Get returns the compiled policy of a connection.
func (s *Snapshot) Get(id string) (*Compiled, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// IDs lists the connection IDs, sorted.
func (s *Snapshot) IDs() []string { return append([]string(nil), s.ids...) }

// Version counts successful loads, starting at 1.
func (s *Snapshot) Version() uint64 { return s.version }

// Registry maps connection IDs to compiled policies loaded from a file and
// swaps them atomically on Reload: readers never see a half-loaded state,
// and a failed reload keeps the policies in force. It is safe for
// concurrent use.
type Registry struct {
	path string
	data []byte // when built from bytes: the document, reloaded as is
	src  Source // when built from a Source
	opts RegistryOptions

	cur atomic.Pointer[Snapshot]
	mu  sync.Mutex // serialises reloads and Close; guards what follows

	// keysets holds the JWKS key sets the policies in force use, by URL. A
	// reload reuses the set of a URL it keeps (no refetch, no new
	// goroutines) and closes those of URLs no policy names any more.
	keysets map[string]keySetEntry
	closed  bool

	following atomic.Bool   // Follow runs at most once
	done      chan struct{} // closed by Close: ends Follow
}

type keySetEntry struct {
	ks    *secretdata.RemoteKeySet
	owned bool // fetched by the registry (not by CompileOptions.KeySet): it closes it
}

func (e keySetEntry) close() {
	if e.owned {
		e.ks.Close()
	}
}

// ErrRegistryClosed is returned by Reload after Close.
var ErrRegistryClosed = errors.New("policy: registry closed")

// NewRegistry loads and compiles the policy file at path. Unless
// opts.Compile.Replay is set, the registry creates one bounded in-memory
// replay cache shared by every connection and kept across reloads.
func NewRegistry(ctx context.Context, path string, opts RegistryOptions) (*Registry, error) {
	r := newRegistry(opts)
	r.path = path
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// NewRegistryFromBytes is NewRegistry for a document held in memory (for
// example an embedded default policy; opts.Load.Name labels it, and a name
// ending in ".json" requires strict JSON). Reload re-reads secrets from the
// environment and files it names.
func NewRegistryFromBytes(ctx context.Context, data []byte, opts RegistryOptions) (*Registry, error) {
	r := newRegistry(opts)
	r.data = bytes.Clone(data)
	if r.opts.Load.Name == "" {
		r.opts.Load.Name = "(embedded)"
	}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// NewRegistryFromSource is NewRegistry for any [Source], such as a [Store]
// that many instances share. Call Follow to apply the source's changes as
// they happen.
//
// A Store is read connection by connection: one whose document does not
// load or compile on this instance (a JWKS URL that does not answer, an
// env variable missing here, a document written by hand) does not hold up
// the others. It keeps its last good version, or, when it has none (at
// start), is left out and refused as an unknown connection; the registry
// starts with the rest, reports it through Logf and OnReload (and Reload
// returns it as an error), and tries it again at each Follow resync.
func NewRegistryFromSource(ctx context.Context, src Source, opts RegistryOptions) (*Registry, error) {
	if src == nil {
		return nil, errors.New("policy: NewRegistryFromSource: nil source")
	}
	r := newRegistry(opts)
	r.src = src
	if err := r.Reload(ctx); err != nil {
		var pe *partialError
		if !errors.As(err, &pe) {
			return nil, err
		}
		if r.opts.Logf != nil {
			r.opts.Logf("policy: started without some connections: %v", err)
		}
	}
	return r, nil
}

func newRegistry(opts RegistryOptions) *Registry {
	r := &Registry{opts: opts, keysets: map[string]keySetEntry{}, done: make(chan struct{})}
	if r.opts.Compile.Replay == nil {
		cache, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{Now: opts.Compile.Now})
		if err != nil {
			panic(err) // the zero config is valid; this cannot happen
		}
		r.opts.Compile.Replay = cache
	}
	return r
}

// keySet returns the key set for url during a reload: the one in force if
// there is one, else a new one. used collects what the reload's policies use.
func (r *Registry) keySet(ctx context.Context, url string, used map[string]keySetEntry) (*secretdata.RemoteKeySet, error) {
	if e, ok := used[url]; ok {
		return e.ks, nil
	}
	if e, ok := r.keysets[url]; ok {
		used[url] = e
		return e.ks, nil
	}
	var e keySetEntry
	if user := r.opts.Compile.KeySet; user != nil {
		ks, err := user(ctx, url)
		if err != nil {
			return nil, err
		}
		e = keySetEntry{ks: ks} // the caller's: the caller closes it
	} else {
		ks, err := r.fetchKeySet(ctx, url)
		if err != nil {
			return nil, err
		}
		e = keySetEntry{ks: ks, owned: true}
	}
	used[url] = e
	return e.ks, nil
}

// fetchKeySet builds a key set that lives until the registry closes it, not
// until ctx (the reload's, maybe a request's) ends; ctx bounds only the
// first fetch.
func (r *Registry) fetchKeySet(ctx context.Context, url string) (*secretdata.RemoteKeySet, error) {
	type result struct {
		ks  *secretdata.RemoteKeySet
		err error
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := make(chan result, 1)
	go func() {
		ks, err := remoteKeySet(context.WithoutCancel(ctx), url, CompileOptions{HTTPClient: r.opts.Compile.HTTPClient, logf: r.opts.Logf})
		done <- result{ks, err}
	}()
	select {
	case res := <-done:
		return res.ks, res.err
	case <-ctx.Done():
		go func() { // the fetch ends with the HTTP client's timeout, if not before
			if res := <-done; res.ks != nil {
				res.ks.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Reload reads the file again, and swaps in the new policies only if every
// connection loads and compiles; otherwise it keeps the current ones and
// returns why.
//
// Key sets of JWKS URLs no policy names any more are closed after the swap;
// a request still holding a replaced policy then refuses tokens that need
// them. A URL the new policies keep keeps its key set.
func (r *Registry) Reload(ctx context.Context) error {
	_, err := r.reloadIf(ctx, false)
	return err
}

// reloadIf is Reload; when onlyChanged, a source whose content has not
// changed since the snapshot in force is not recompiled (swapped false,
// no OnReload).
func (r *Registry) reloadIf(ctx context.Context, onlyChanged bool) (swapped bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	swapped, err = r.reload(ctx, onlyChanged)
	if (swapped || err != nil) && r.opts.OnReload != nil {
		r.opts.OnReload(r.cur.Load(), err)
	}
	return swapped, err
}

// reload is reloadIf with r.mu held.
func (r *Registry) reload(ctx context.Context, onlyChanged bool) (bool, error) {
	if r.closed {
		return false, ErrRegistryClosed
	}
	var file *File
	var err error
	var digest [32]byte
	// failed is non-nil when the source loads connection by connection (a
	// Store): one that does not load or compile here keeps its last good
	// version and the others apply. A file is all or nothing.
	var failed map[string]error
	if r.src != nil {
		if ps, ok := r.src.(interface {
			loadEach(context.Context) (*File, map[string]error, error)
		}); ok {
			file, failed, err = ps.loadEach(ctx)
		} else {
			file, err = r.src.Load(ctx)
		}
		if err == nil {
			digest = file.digest // zero for a Source that gives none: never skipped
			if cur := r.cur.Load(); onlyChanged && file.hasDigest && cur != nil && cur.digest == digest {
				return false, nil
			}
		}
	} else if r.data != nil {
		file, err = Parse(r.data, r.opts.Load)
		digest = sha256.Sum256(r.data)
	} else {
		// One read serves both the policies and the digest WatchFile
		// compares, so a change between two reads cannot be missed.
		var raw []byte
		if raw, err = readPolicyFile(r.path); err == nil {
			digest = sha256.Sum256(raw)
			file, err = loadBytes(r.path, raw, r.opts.Load)
		}
	}
	if err != nil {
		return false, err
	}
	used := make(map[string]keySetEntry)
	opts := r.opts.Compile
	opts.KeySet = func(ctx context.Context, url string) (*secretdata.RemoteKeySet, error) {
		return r.keySet(ctx, url, used)
	}
	prev := r.cur.Load()
	next := &Snapshot{byID: make(map[string]*Compiled, len(file.Connections)), digest: digest}
	for i := range file.Connections {
		c := &file.Connections[i]
		compiled, err := c.Compile(ctx, opts)
		if err != nil {
			if failed == nil {
				for url, e := range used { // those this failed reload fetched
					if _, inForce := r.keysets[url]; !inForce {
						e.close()
					}
				}
				return false, err
			}
			failed[c.ID] = err
			continue
		}
		next.byID[c.ID] = compiled
	}
	var kept []string
	for id := range failed {
		if prev == nil {
			break
		}
		if pc, ok := prev.Get(id); ok {
			next.byID[id] = pc
			kept = append(kept, id)
		}
	}
	if len(failed) > 0 {
		next.digest = [32]byte{} // the next resync tries the failed ones again
	}
	for id := range next.byID {
		next.ids = append(next.ids, id)
	}
	sort.Strings(next.ids)
	if prev != nil {
		next.version = prev.version + 1
	} else {
		next.version = 1
	}
	r.cur.Store(next)
	// Keep the key sets the policies in force use (a kept version's
	// included); close the others once.
	refs := map[string]bool{}
	for _, c := range next.byID {
		if c.cfg.JWKSURL != "" {
			refs[c.cfg.JWKSURL] = true
		}
	}
	keep := make(map[string]keySetEntry)
	closed := make(map[*secretdata.RemoteKeySet]bool)
	for _, m := range []map[string]keySetEntry{used, r.keysets} {
		for url, e := range m {
			switch {
			case refs[url]:
				if _, ok := keep[url]; !ok {
					keep[url] = e // the registry reuses a URL's set: the same in both maps
				}
			case !closed[e.ks]:
				closed[e.ks] = true
				e.close()
			}
		}
	}
	r.keysets = keep
	if len(failed) > 0 {
		return true, &partialError{failed: failed, kept: kept}
	}
	return true, nil
}

// partialError names the connections of a Store that did not load or
// compile on this instance: each keeps its last good version (kept), or,
// when it has none, is left out (refused as unknown).
type partialError struct {
	failed map[string]error
	kept   []string
}

func (e *partialError) Error() string {
	ids := make([]string, 0, len(e.failed))
	for id := range e.failed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	b.WriteString("policy: applied every connection but ")
	for i, id := range ids {
		if i > 0 {
			b.WriteString("; ")
		}
		what := "left out"
		if slices.Contains(e.kept, id) {
			what = "keeps its last good version"
		}
		fmt.Fprintf(&b, "%s (%s): %v", id, what, e.failed[id])
	}
	return b.String()
}

// Unwrap returns the connections' errors.
func (e *partialError) Unwrap() []error {
	out := make([]error, 0, len(e.failed))
	for _, err := range e.failed {
		out = append(out, err)
	}
	return out
}

// Close stops the background refresh of every JWKS key set the registry
// fetched (those from CompileOptions.KeySet stay the caller's). The
// policies in force keep answering Get, but refuse tokens that need a JWKS
// key, and Reload fails with ErrRegistryClosed. Stop the watchers through
// their contexts. Close is idempotent and always returns nil.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.done)
	for _, e := range r.keysets {
		e.close()
	}
	r.keysets = nil
	return nil
}

// Snapshot returns the policies in force, as one consistent set.
func (r *Registry) Snapshot() *Snapshot { return r.cur.Load() }

// Get returns the compiled policy of a connection in force now.
func (r *Registry) Get(id string) (*Compiled, bool) { return r.cur.Load().Get(id) }

// replay returns the replay cache the registry's verifiers share.
func (r *Registry) replay() secretdata.ReplayCache { return r.opts.Compile.Replay }

// WatchSignals reloads on each of sigs (SIGHUP, typically) until ctx ends.
// It returns at once; failures are reported through RegistryOptions.Logf.
func (r *Registry) WatchSignals(ctx context.Context, sigs ...os.Signal) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				r.reloadAndLog(ctx, "signal")
			}
		}
	}()
}

// WatchFile reloads when the file's content changes, checking every
// interval, until ctx ends. It returns at once.
func (r *Registry) WatchFile(ctx context.Context, interval time.Duration) {
	if r.path == "" {
		return
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		last := r.cur.Load().digest
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				raw, err := readPolicyFile(r.path) // bounded, as Reload reads it
				if err != nil {
					continue
				}
				if d := sha256.Sum256(raw); d != last {
					last = d // a failed reload is not retried until the file changes again
					r.reloadAndLog(ctx, "file change")
				}
			}
		}
	}()
}

// Follow applies the changes of the registry's [Store] (or any Source with
// a Watch method) until ctx ends: at each change the source reports, and
// every resync interval in any case, so a missed notification costs at
// most one interval; every tenth resync reloads even an unchanged store,
// so rotated env and file secrets are read again. Follow runs once per
// registry (later calls do nothing) and stops when ctx ends or the
// registry is closed. A load that fails (the store unreachable, a document
// that does not compile here) is logged and the policies in force stay;
// an unchanged one is skipped. It returns at once; it does nothing for a
// registry read from a file (see WatchFile).
func (r *Registry) Follow(ctx context.Context, resync time.Duration) {
	if r.src == nil || !r.following.CompareAndSwap(false, true) {
		return // a file registry, or already following
	}
	if resync <= 0 {
		resync = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() { // Close ends the following too
		select {
		case <-r.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	kick := make(chan struct{}, 1)
	changed := func() {
		select {
		case kick <- struct{}{}:
		default: // one pending reload covers every change before it
		}
	}
	if w, ok := r.src.(interface {
		Watch(context.Context, func()) error
	}); ok {
		go func() {
			for {
				err := w.Watch(ctx, changed)
				if err == nil || ctx.Err() != nil {
					return // ctx ended, or the source cannot watch: resync alone
				}
				if r.opts.Logf != nil {
					r.opts.Logf("policy: watching the store failed, retrying (resync every %v goes on): %v", resync, err)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				changed() // catch up on what the gap missed
			}
		}()
	}
	go func() {
		t := time.NewTicker(resync)
		defer t.Stop()
		for n := 1; ; n++ {
			full := false
			select {
			case <-ctx.Done():
				return
			case <-kick:
			case <-t.C:
				// Every tenth resync reloads even an unchanged store, so
				// secrets behind env and file references that were
				// rotated on this instance are read again.
				full = n%10 == 0
			}
			r.followOnce(ctx, full)
		}
	}()
}

func (r *Registry) followOnce(ctx context.Context, full bool) {
	swapped, err := r.reloadIf(ctx, !full)
	if r.opts.Logf == nil || errors.Is(err, ErrRegistryClosed) {
		return
	}
	switch {
	case err != nil && swapped:
		r.opts.Logf("policy: reloaded from the store: version %d; %v", r.cur.Load().version, err)
	case err != nil:
		r.opts.Logf("policy: reload from the store failed, keeping version %d: %v", r.cur.Load().version, err)
	case swapped:
		r.opts.Logf("policy: reloaded from the store: version %d", r.cur.Load().version)
	}
}

func (r *Registry) reloadAndLog(ctx context.Context, why string) {
	err := r.Reload(ctx)
	if r.opts.Logf == nil {
		return
	}
	if err != nil {
		r.opts.Logf("policy: reload on %s failed, keeping version %d: %v", why, r.cur.Load().version, err)
		return
	}
	r.opts.Logf("policy: reloaded on %s: version %d", why, r.cur.Load().version)
}

// String describes the registry without secrets.
func (r *Registry) String() string {
	s := r.cur.Load()
	return fmt.Sprintf("policy.Registry(%d connections, version %d)", len(s.ids), s.version)
}
