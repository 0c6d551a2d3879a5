package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// RegistryOptions configure a Registry.
type RegistryOptions struct {
	Load    LoadOptions
	Compile CompileOptions
	// Logf, when set, hears about reloads done by the watchers (never
	// secrets).
	Logf func(format string, args ...any)
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
	fmt  Format
	opts RegistryOptions

	cur atomic.Pointer[Snapshot]
	mu  sync.Mutex // serialises reloads

	keysets map[string]*secretdata.RemoteKeySet // by JWKS URL, kept across reloads
}

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
// example an embedded default policy). Reload re-reads secrets from the
// environment and files it names.
func NewRegistryFromBytes(ctx context.Context, data []byte, format Format, opts RegistryOptions) (*Registry, error) {
	r := newRegistry(opts)
	r.data, r.fmt = bytes.Clone(data), format
	if r.opts.Load.Name == "" {
		r.opts.Load.Name = "(embedded)"
	}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func newRegistry(opts RegistryOptions) *Registry {
	r := &Registry{opts: opts, keysets: map[string]*secretdata.RemoteKeySet{}}
	if r.opts.Compile.Replay == nil {
		cache, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{Now: opts.Compile.Now})
		if err != nil {
			panic(err) // the zero config is valid; this cannot happen
		}
		r.opts.Compile.Replay = cache
	}
	userKS := r.opts.Compile.KeySet
	r.opts.Compile.KeySet = func(ctx context.Context, url string) (*secretdata.RemoteKeySet, error) {
		if ks, ok := r.keysets[url]; ok {
			return ks, nil
		}
		var ks *secretdata.RemoteKeySet
		var err error
		if userKS != nil {
			ks, err = userKS(ctx, url)
		} else {
			ks, err = remoteKeySet(ctx, url, CompileOptions{HTTPClient: opts.Compile.HTTPClient})
		}
		if err == nil {
			r.keysets[url] = ks
		}
		return ks, err
	}
	return r
}

// Reload reads the file again, and swaps in the new policies only if every
// connection loads and compiles; otherwise it keeps the current ones and
// returns why.
func (r *Registry) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var file *File
	var err error
	var digest [32]byte
	if r.data != nil {
		file, err = Parse(r.data, r.fmt, r.opts.Load)
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
		return err
	}
	next := &Snapshot{byID: make(map[string]*Compiled, len(file.Connections)), digest: digest}
	for i := range file.Connections {
		c := &file.Connections[i]
		compiled, err := c.Compile(ctx, r.opts.Compile)
		if err != nil {
			return err
		}
		next.byID[c.ID] = compiled
		next.ids = append(next.ids, c.ID)
	}
	sort.Strings(next.ids)
	if prev := r.cur.Load(); prev != nil {
		next.version = prev.version + 1
	} else {
		next.version = 1
	}
	r.cur.Store(next)
	return nil
}

// Snapshot returns the policies in force, as one consistent set.
func (r *Registry) Snapshot() *Snapshot { return r.cur.Load() }

// Get returns the compiled policy of a connection in force now.
func (r *Registry) Get(id string) (*Compiled, bool) { return r.cur.Load().Get(id) }

// Replay returns the replay cache the registry's verifiers share.
func (r *Registry) Replay() secretdata.ReplayCache { return r.opts.Compile.Replay }

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
