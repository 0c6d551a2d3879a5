package policy

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/msgsec/msgsec/cfgerr"
)

// Source is where a [Registry] reads the connections it enforces: a
// policy file (what [NewRegistry] reads), a document in memory, or a
// [Store] that many instances share. Load returns the whole set, parsed,
// resolved and validated; a Registry compiles it and swaps it in at once.
type Source interface {
	Load(ctx context.Context) (*File, error)
}

// Backend is where a [Store] keeps its documents: one per connection, each
// with a version. A Backend only moves bytes; the Store validates, seals
// and parses. [NewMemoryBackend] is one; package policy/redispolicy has
// one for Redis.
type Backend interface {
	// List returns every stored document by connection ID. It fails with
	// an error matching ErrUnavailable when the backend cannot answer.
	List(ctx context.Context) (map[string]Record, error)
	// Swap replaces the document of id, atomically, if its version is
	// ifVersion (0: if there is none), and returns the new version, which
	// is greater than every version the id had before. A nil doc deletes
	// it. When the version differs it changes nothing and returns a
	// *ConflictError.
	Swap(ctx context.Context, id string, ifVersion uint64, doc []byte) (uint64, error)
}

// Record is one stored document and its version. A backend that finds a
// document too large to read (over 1 MiB) returns its Record with a nil
// Doc: that connection is refused, the others load.
type Record struct {
	Doc     []byte
	Version uint64
}

// Errors of a [Store].
var (
	// ErrConflict: a write named a version that is not the stored one
	// (another write came first). The error is a *ConflictError.
	ErrConflict = errors.New("policy: version conflict")
	// ErrUnavailable: the store's backend cannot be reached, or could not
	// confirm a write. Usually nothing was written; but a write that timed
	// out, or that a backend could not confirm on enough replicas
	// (redispolicy's WaitReplicas), may have landed: re-read before writing
	// again (a write naming the version read before it then fails as a
	// conflict if the first one landed).
	ErrUnavailable = errors.New("policy: store unavailable")
)

// ConflictError is the error of a write whose version is stale: re-read,
// reapply the change, write again.
type ConflictError struct {
	ID string
	// Want is the version the write named; Have the stored one (0 when
	// the connection does not exist).
	Want, Have uint64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("policy: connection %s: version conflict: the write read version %d, the store holds %d", e.ID, e.Want, e.Have)
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// StoreOptions configure a Store.
type StoreOptions struct {
	// SealingKey is the 32-byte key (random, from env or a file like any
	// secret) that seals the signing secrets the store keeps. Required:
	// every instance sharing the store needs the same key, and one without
	// it cannot start.
	SealingKey []byte
	// Load resolves the env and file secret references stored policies
	// name, on this instance (LoadOptions.Name is ignored).
	Load LoadOptions
}

// Store is a versioned set of connection policies that many chat-server
// instances share: a [Source] for a [Registry], and the one place writes
// go through. Every write is validated as a policy file is (an invalid one
// is refused with field paths and stores nothing), names the version it
// read (compare-and-set: a *ConflictError when another write came first),
// and keeps each secret held in memory — one created for the connection —
// AES-256-GCM-sealed, bound to its connection and key ID; env and file
// references stay references, resolved by each instance. A Store is safe
// for concurrent use.
type Store struct {
	b    Backend
	k    *storeKeys // behind a pointer: printing a Store value shows an address
	load LoadOptions
}

// storeKeys are what the sealing key derives: the AEAD that seals secrets
// and the key that authenticates documents.
type storeKeys struct {
	aead cipher.AEAD
	mac  []byte
}

// NewStore returns a Store over b.
func NewStore(b Backend, opts StoreOptions) (*Store, error) {
	var problems []*cfgerr.Error
	if b == nil {
		problems = append(problems, &cfgerr.Error{Field: "backend", Kind: ErrMissing, Reason: "required"})
	}
	switch k := opts.SealingKey; {
	case len(k) == 0:
		problems = append(problems, &cfgerr.Error{Field: "sealing_key", Kind: ErrMissing, Reason: "required: 32 random bytes (a store keeps its signing secrets sealed)"})
	case len(k) != 32:
		problems = append(problems, &cfgerr.Error{Field: "sealing_key", Value: cfgerr.Redacted, Kind: ErrValue, Reason: "must be 32 bytes, not " + strconv.Itoa(len(k))})
	case subtle.ConstantTimeCompare(k, make([]byte, 32)) == 1:
		problems = append(problems, &cfgerr.Error{Field: "sealing_key", Value: cfgerr.Redacted, Kind: ErrValue, Reason: "must not be all zeros"})
	}
	if err := cfgerr.Join("policy: invalid store options", problems); err != nil {
		return nil, err
	}
	derived, err := hkdf.Key(sha256.New, opts.SealingKey, nil, "msgsec policy store sealing v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(derived)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, opts.SealingKey, nil, "msgsec policy store document mac v1", 32)
	if err != nil {
		return nil, err
	}
	return &Store{b: b, k: &storeKeys{aead: aead, mac: mac}, load: opts.Load}, nil
}

// String describes the options without the sealing key.
func (o StoreOptions) String() string {
	k := "unset"
	if len(o.SealingKey) > 0 {
		k = redacted
	}
	return "policy.StoreOptions{SealingKey: " + k + "}"
}

// Format prints String for every verb, so %v, %+v and %#v never show the
// key.
func (o StoreOptions) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(o.String())) }

// MarshalJSON emits no key.
func (o StoreOptions) MarshalJSON() ([]byte, error) {
	return []byte(`{"sealing_key":"` + redacted + `"}`), nil
}

// docHeader starts every stored document: a YAML comment holding the
// document's MAC, so only a holder of the sealing key can write a policy
// instances accept (a document written into the backend by hand, or by
// anyone with write access to it but not the key, is refused).
const docHeader = "#msgsec-store-mac:v1:"

func (s *Store) docMAC(id string, body []byte) string {
	m := hmac.New(sha256.New, s.k.mac)
	m.Write([]byte("msgsec/policy-store/doc/v1\x00"))
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write(body)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// authenticated returns the document's body if its MAC line is right.
func (s *Store) authenticated(id string, doc []byte) ([]byte, bool) {
	line, body, ok := bytes.Cut(doc, []byte("\n"))
	if !ok {
		return nil, false
	}
	got, ok := bytes.CutPrefix(line, []byte(docHeader))
	if !ok {
		return nil, false
	}
	want := s.docMAC(id, body)
	return body, hmac.Equal(got, []byte(want))
}

// String describes the store without its key.
func (s *Store) String() string { return fmt.Sprintf("policy.Store(%T)", s.b) }

const sealPrefix = "v1."

// sealAAD is the additional data of a sealed secret: where it belongs.
func sealAAD(conn, list, kid, field string) string {
	return "msgsec/policy-store/v1\x00" + conn + "\x00" + list + "\x00" + kid + "\x00" + field
}

func (s *Store) seal(aad string, b []byte) string {
	return sealPrefix + base64.RawURLEncoding.EncodeToString(s.k.aead.Seal(nil, nil, b, []byte(aad)))
}

func (s *Store) open(aad, sealed string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, errors.New("unknown seal version")
	}
	ct, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, err
	}
	return s.k.aead.Open(nil, nil, ct, []byte(aad))
}

// opener is LoadOptions' unsealer bound to one secret's place, or nil.
func opener(opts LoadOptions, aad string) func(string) ([]byte, error) {
	if opts.open == nil {
		return nil
	}
	return func(sealed string) ([]byte, error) { return opts.open(aad, sealed) }
}

// Load returns every stored connection, parsed, resolved and validated, in
// ID order. A document that does not parse (one written by hand) fails
// the whole Load, as a bad policy file does (a Registry reading the store
// is more forgiving: see NewRegistryFromSource); an empty store is an
// empty set.
func (s *Store) Load(ctx context.Context) (*File, error) {
	f, failed, err := s.loadEach(ctx)
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		ids := make([]string, 0, len(failed))
		for id := range failed {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		errs := make([]error, 0, len(ids))
		for _, id := range ids {
			errs = append(errs, failed[id])
		}
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// loadEach is Load connection by connection: the ones that load, and why
// each other one does not. err is for the store itself (unreachable).
func (s *Store) loadEach(ctx context.Context) (*File, map[string]error, error) {
	recs, err := s.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := &File{Connections: make([]ConnectionPolicy, 0, len(ids))}
	failed := map[string]error{}
	h := sha256.New()
	for _, id := range ids {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(len(id)))
		h.Write(v[:])
		h.Write([]byte(id))
		binary.BigEndian.PutUint64(v[:], recs[id].Version)
		h.Write(v[:])
		binary.BigEndian.PutUint64(v[:], uint64(len(recs[id].Doc)))
		h.Write(v[:])
		h.Write(recs[id].Doc)
		c, err := s.parse(id, recs[id].Doc)
		if err != nil {
			failed[id] = err
			continue
		}
		out.Connections = append(out.Connections, *c)
	}
	copy(out.digest[:], h.Sum(nil))
	out.hasDigest = true
	return out, failed, nil
}

// Get returns one connection as stored, resolved (a sealed secret is open
// in memory, as a loaded policy's are), and its version, for a
// read-modify-write. It fails with ErrUnknownConnection when there is none.
func (s *Store) Get(ctx context.Context, id string) (*ConnectionPolicy, uint64, error) {
	recs, err := s.list(ctx)
	if err != nil {
		return nil, 0, err
	}
	rec, ok := recs[id]
	if !ok {
		return nil, 0, fmt.Errorf("%w: %q", ErrUnknownConnection, id)
	}
	c, err := s.parse(id, rec.Doc)
	if err != nil {
		return nil, 0, err
	}
	return c, rec.Version, nil
}

// Versions returns the stored version of every connection.
func (s *Store) Versions(ctx context.Context) (map[string]uint64, error) {
	recs, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(recs))
	for id, r := range recs {
		out[id] = r.Version
	}
	return out, nil
}

// Put writes c if the stored version of c.ID is ifVersion (0 to create
// it) and returns the new version. c is validated as in a policy file
// (problems are *cfgerr.Error values, paths under "connections[0]") and
// must compile; nothing is written when it is invalid. Secrets c holds in
// memory ([SecretBytes], or values read from a file) are stored sealed;
// env and file references are stored as references.
func (s *Store) Put(ctx context.Context, c *ConnectionPolicy, ifVersion uint64) (uint64, error) {
	if c == nil {
		return 0, errors.New("policy: Put of a nil policy")
	}
	doc, err := s.encode(c)
	if err != nil {
		return 0, err
	}
	parsed, err := s.parse(c.ID, doc)
	if err != nil {
		return 0, err
	}
	check := *parsed
	check.JWKSURL = "" // compiled without fetching: the URL itself is validated
	if _, err := check.Compile(ctx, CompileOptions{}); err != nil {
		return 0, err
	}
	return s.swap(ctx, c.ID, ifVersion, doc)
}

// Delete removes connection id if its stored version is ifVersion.
func (s *Store) Delete(ctx context.Context, id string, ifVersion uint64) error {
	if ifVersion == 0 {
		return &ConflictError{ID: id}
	}
	_, err := s.swap(ctx, id, ifVersion, nil)
	return err
}

// Watch calls changed whenever the backend reports a change, until ctx
// ends, if the backend can: it implements the same method, as Redis does
// with pub/sub, calling changed for every change notice and after every
// (re)subscription, and returning an error when its subscription breaks
// (a Registry's Follow then retries). Otherwise Watch returns nil at once,
// and a Registry relies on its resync timer alone.
func (s *Store) Watch(ctx context.Context, changed func()) error {
	if w, ok := s.b.(interface {
		Watch(context.Context, func()) error
	}); ok {
		return w.Watch(ctx, changed)
	}
	return nil
}

func (s *Store) list(ctx context.Context) (map[string]Record, error) {
	recs, err := s.b.List(ctx)
	// A backend's verdict on a document (one too large to read) is a
	// policy problem, not an outage.
	if err != nil && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrInvalid) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return recs, err
}

func (s *Store) swap(ctx context.Context, id string, ifVersion uint64, doc []byte) (uint64, error) {
	v, err := s.b.Swap(ctx, id, ifVersion, doc)
	if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrInvalid) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return v, err
}

// Parse is [Parse] for a policy file that may hold secrets this store
// sealed, such as the set `msgsec policy pull` prints: a sealed secret
// opens when its connection and key ID are the ones it was sealed for,
// under this store's key. Putting what it returns writes those secrets
// sealed afresh. opts.LookupEnv and opts.ReadFile resolve the file's env
// and file references, as for Parse.
func (s *Store) Parse(data []byte, opts LoadOptions) (*File, error) {
	opts.open = s.open
	return Parse(data, opts)
}

// parse reads one stored document: a policy file holding connection id.
func (s *Store) parse(id string, doc []byte) (*ConnectionPolicy, error) {
	opts := s.load
	opts.Name = "store:" + id
	opts.open = s.open
	opts.stored = true
	if doc == nil {
		return nil, cfgerr.Join("policy: invalid", []*cfgerr.Error{{File: opts.Name, Kind: ErrSyntax,
			Reason: fmt.Sprintf("the stored document could not be read: larger than %d bytes", maxFileBytes)}})
	}
	body, ok := s.authenticated(id, doc)
	if !ok {
		return nil, cfgerr.Join("policy: invalid", []*cfgerr.Error{{File: opts.Name, Kind: ErrNotAuthenticated,
			Reason: "the stored document is not authenticated by this store's sealing key (written into the backend by hand, or under another key); write it through the Store"}})
	}
	f, err := Parse(body, opts)
	if err != nil {
		return nil, err
	}
	if len(f.Connections) != 1 || f.Connections[0].ID != id {
		return nil, &cfgerr.Error{File: opts.Name, Field: "connections", Kind: ErrValue, Reason: "a stored document holds exactly its own connection, " + strconv.Quote(id)}
	}
	return &f.Connections[0], nil
}

// encode turns c into its stored document, sealing the secrets it holds.
func (s *Store) encode(c *ConnectionPolicy) ([]byte, error) {
	cp := c.clone()
	var problems []*cfgerr.Error
	sealRef := func(r *SecretRef, path, aad, defaultEnc string) *SecretRef {
		if r == nil {
			return nil
		}
		switch {
		case r.Env != "" || r.File != "":
			return &SecretRef{Env: r.Env, File: r.File, Encoding: r.Encoding}
		case !r.resolved.IsZero():
			return &SecretRef{Sealed: s.seal(aad, r.resolved.Bytes())}
		case !r.Value.IsZero():
			enc := r.Encoding
			if enc == "" {
				enc = defaultEnc
			}
			b, err := decodeSecret(string(r.Value.Bytes()), enc)
			if err != nil {
				problems = append(problems, &cfgerr.Error{Field: path, Value: cfgerr.Redacted, Kind: ErrSecret, Reason: "cannot decode the secret as " + enc})
				return nil
			}
			return &SecretRef{Sealed: s.seal(aad, b)}
		case r.Sealed != "":
			return &SecretRef{Sealed: r.Sealed} // as stored: parse checks it opens here
		}
		return &SecretRef{}
	}
	for i := range cp.Keys {
		k := &cp.Keys[i]
		path := fmt.Sprintf("connections[0].keys[%d]", i)
		k.Secret = sealRef(k.Secret, path+".secret", sealAAD(c.ID, "keys", k.ID, "secret"), encRaw)
		k.PublicKey = sealRef(k.PublicKey, path+".public_key", sealAAD(c.ID, "keys", k.ID, "public_key"), encRaw)
	}
	for i := range cp.DecryptionKeys {
		d := &cp.DecryptionKeys[i]
		path := fmt.Sprintf("connections[0].decryption_keys[%d].secret", i)
		d.Secret = sealRef(d.Secret, path, sealAAD(c.ID, "decryption_keys", d.ID, "secret"), encBase64URL)
	}
	if err := cfgerr.Join("policy: invalid", problems); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(File{Connections: []ConnectionPolicy{cp}}); err != nil {
		return nil, fmt.Errorf("policy: encode %s: %w", c.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	body := buf.Bytes()
	return append([]byte(docHeader+s.docMAC(c.ID, body)+"\n"), body...), nil
}

// MemoryBackend is a [Backend] in process memory: the embedded default,
// and tests. Its Watch hears its own writes.
type MemoryBackend struct {
	mu      sync.Mutex
	docs    map[string]Record
	next    uint64
	watches map[*func()]struct{}
}

// NewMemoryBackend returns an empty MemoryBackend.
func NewMemoryBackend() *MemoryBackend {
	return &MemoryBackend{docs: map[string]Record{}, watches: map[*func()]struct{}{}}
}

// List implements Backend.
func (m *MemoryBackend) List(context.Context) (map[string]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Record, len(m.docs))
	for id, r := range m.docs {
		out[id] = Record{Doc: bytes.Clone(r.Doc), Version: r.Version}
	}
	return out, nil
}

// Swap implements Backend.
func (m *MemoryBackend) Swap(_ context.Context, id string, ifVersion uint64, doc []byte) (uint64, error) {
	m.mu.Lock()
	cur := m.docs[id]
	if cur.Version != ifVersion {
		m.mu.Unlock()
		return 0, &ConflictError{ID: id, Want: ifVersion, Have: cur.Version}
	}
	m.next++
	v := m.next
	if doc == nil {
		delete(m.docs, id)
		v = 0
	} else {
		m.docs[id] = Record{Doc: bytes.Clone(doc), Version: v}
	}
	watchers := make([]func(), 0, len(m.watches))
	for f := range m.watches {
		watchers = append(watchers, *f)
	}
	m.mu.Unlock()
	for _, f := range watchers {
		f()
	}
	return v, nil
}

// Watch implements the optional change notification a Store forwards:
// changed runs once when Watch has subscribed, then after every write.
func (m *MemoryBackend) Watch(ctx context.Context, changed func()) error {
	key := &changed
	m.mu.Lock()
	m.watches[key] = struct{}{}
	m.mu.Unlock()
	changed() // subscribed: what was written before is caught up on
	<-ctx.Done()
	m.mu.Lock()
	delete(m.watches, key)
	m.mu.Unlock()
	return nil
}
