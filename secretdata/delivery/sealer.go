package delivery

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"time"

	"github.com/msgsec/msgsec/cfgerr"

	"github.com/msgsec/msgsec/secretdata"
)

// KeySize is the length of a Sealer key: 32 bytes (256 bits).
const KeySize = 32

const (
	sealVersion = 1
	// sealInfo separates the sealing key from any other use of the
	// caller's key (HKDF info).
	sealInfo = "msgsec secretdata/delivery sealer v1"
	// aadLabel starts the additional data, so a ciphertext made by
	// something else with the same derived key could never open here.
	aadLabel = "msgsec/delivery/v1\x00"
)

// Sealer encrypts a session's verified claims with AES-256-GCM for storage,
// binding them to their (connection, session): the pair is the AEAD's
// additional data, so bytes copied to another session's slot do not open.
// Every store in this package and its adapters (Redis) seals with it, so a
// backend only ever holds opaque bytes.
//
// The AES key is derived from the caller's key with HKDF-SHA256 and a fixed
// label, so the same 32 bytes used elsewhere never meet this purpose's
// ciphertexts. Nonces are 96 random bits: encrypt at most 2^32 entries
// under one key — across every instance sharing it — then rotate.
//
// A Sealer is immutable and safe for concurrent use. It never prints,
// encodes or logs its key (String, Format — which fmt and slog's text
// handler use for every verb — and MarshalJSON, which slog's JSON handler
// uses, redact it, as values and pointers), and the cipher — whose key schedule is the
// key — sits behind a closure, which reflection-based printing can only
// show as an address.
type Sealer struct {
	aead func() cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key (from crypto/rand, kept out
// of source and logs). It refuses any other length and the all-zero key
// (ErrConfig, Field "key"; the key is never quoted).
func NewSealer(key []byte) (*Sealer, error) {
	if err := cfgerr.Join("delivery: invalid sealer key", checkKey(nil, "key", key)); err != nil {
		return nil, err
	}
	return newSealer(key), nil
}

// checkKey records what is wrong with a sealing key, under field.
func checkKey(problems []*cfgerr.Error, field string, key []byte) []*cfgerr.Error {
	switch {
	case len(key) == 0:
		return append(problems, cfgProblem(field, "", "required: 32 random bytes"))
	case len(key) != KeySize:
		return append(problems, cfgProblem(field, cfgerr.Redacted, "must be 32 bytes, not "+strconv.Itoa(len(key))))
	case subtle.ConstantTimeCompare(key, make([]byte, KeySize)) == 1:
		return append(problems, cfgProblem(field, cfgerr.Redacted, "must not be all zeros"))
	}
	return problems
}

// newSealer makes the Sealer of a key checkKey accepted.
func newSealer(key []byte) *Sealer {
	derived, err := hkdf.Key(sha256.New, key, nil, sealInfo, KeySize)
	if err != nil {
		panic("delivery: hkdf: " + err.Error()) // cannot happen: 32 bytes of SHA-256 output
	}
	block, err := aes.NewCipher(derived)
	if err != nil {
		panic("delivery: aes: " + err.Error()) // cannot happen: a 32-byte key
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("delivery: gcm: " + err.Error()) // cannot happen: an AES block
	}
	return &Sealer{aead: func() cipher.AEAD { return aead }}
}

// record is the sealed plaintext: the claims and the storage deadline.
// Sealing the deadline lets OpenClaims refuse expired data even if a
// backend kept it past its TTL.
type record struct {
	Until     int64          `json:"until"` // unix nanoseconds
	Issuer    string         `json:"iss"`
	Subject   string         `json:"sub,omitempty"`
	Audience  string         `json:"aud"`
	IssuedAt  time.Time      `json:"iat"`
	ExpiresAt time.Time      `json:"exp"`
	NotBefore time.Time      `json:"nbf"`
	ID        string         `json:"jti"`
	SessionID string         `json:"sid,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// SealClaims encrypts claims, to be kept for (connection, session) until
// expires. The result is 1 version byte, a 12-byte nonce, the ciphertext
// and a 16-byte tag; it reveals nothing but its length.
func (s *Sealer) SealClaims(connection, session string, claims *secretdata.Claims, expires time.Time) ([]byte, error) {
	if claims == nil {
		return nil, argErr("claims", "nil")
	}
	c := claims
	plain, err := json.Marshal(record{
		Until: expires.UnixNano(), Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
		IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, NotBefore: c.NotBefore,
		ID: c.ID, SessionID: c.SessionID, Data: c.SecretData,
	})
	if err != nil {
		return nil, argErr("claims.SecretData", "not json-encodable")
	}
	aead := s.aead()
	out := make([]byte, 1, 1+len(plain)+aead.Overhead())
	out[0] = sealVersion
	out = aead.Seal(out, nil, plain, additionalData(connection, session))
	clear(plain)
	return out, nil
}

// OpenClaims decrypts what SealClaims made for the same (connection,
// session). It returns ErrCorrupt when the bytes do not authenticate (wrong
// key, wrong session, tampered) and ErrNotFound when the sealed deadline is
// not after now.
func (s *Sealer) OpenClaims(connection, session string, sealed []byte, now time.Time) (*secretdata.Claims, error) {
	aead := s.aead()
	if len(sealed) < 1+aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrCorrupt
	}
	plain, err := aead.Open(nil, nil, sealed[1:], additionalData(connection, session))
	if err != nil {
		return nil, ErrCorrupt
	}
	defer clear(plain)
	var rec record
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.UseNumber() // as the Verifier does: no float64 precision loss
	if err := dec.Decode(&rec); err != nil {
		return nil, ErrCorrupt
	}
	if !now.Before(time.Unix(0, rec.Until)) {
		return nil, ErrNotFound
	}
	return &secretdata.Claims{
		Issuer: rec.Issuer, Subject: rec.Subject, Audience: rec.Audience,
		IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt, NotBefore: rec.NotBefore,
		ID: rec.ID, SessionID: rec.SessionID, SecretData: rec.Data,
	}, nil
}

// additionalData encodes (connection, session) unambiguously: each is
// length-prefixed, so ("a:b", "c") and ("a", "b:c") differ.
func additionalData(connection, session string) []byte {
	b := make([]byte, 0, len(aadLabel)+8+len(connection)+len(session))
	b = append(b, aadLabel...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(connection)))
	b = append(b, connection...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(session)))
	return append(b, session...)
}
