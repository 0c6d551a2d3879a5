package policy

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
)

// signed is doc with a valid MAC line, as only a holder of the sealing key
// could write it.
func signed(s *Store, id, body string) []byte {
	return []byte(docHeader + s.docMAC(id, []byte(body)) + "\n" + body)
}

func fields(err error) []string {
	var out []string
	for e := range cfgerr.All(err) {
		out = append(out, e.Field)
	}
	return out
}

const inlineDoc = `connections:
- id: a
  allowed_domains: [https://a.example]
  token: {issuer: https://b.example}
  keys:
  - id: k1
    secret: {value: attacker-chosen-secret-0123456789-abcdefgh, insecure_inline: true}
`

// A document written into the backend without the sealing key — here one
// that carries a secret its writer knows — is refused before it is read.
func TestStoreRefusesUnauthenticatedDocuments(t *testing.T) {
	ctx := context.Background()
	b := NewMemoryBackend()
	s, err := NewStore(b, StoreOptions{SealingKey: bytes.Repeat([]byte{5}, 32)})
	require.NoError(t, err)
	for name, doc := range map[string][]byte{
		"no mac":            []byte(inlineDoc),
		"wrong mac":         []byte(docHeader + "AAAA\n" + inlineDoc),
		"mac of another id": signed(s, "b", inlineDoc),
		"mac, body changed": append(signed(s, "a", inlineDoc), []byte("  name: x\n")...),
	} {
		recs, _ := b.List(ctx)
		_, err := b.Swap(ctx, "a", recs["a"].Version, doc)
		require.NoError(t, err)
		_, err = s.Load(ctx)
		require.ErrorIs(t, err, ErrInvalid, name)
		require.Contains(t, err.Error(), "not authenticated", name)
		r, err := NewRegistryFromSource(ctx, s, RegistryOptions{})
		require.NoError(t, err, "an instance starts without the connection it cannot read")
		_, ok := r.Get("a")
		require.False(t, ok, name+": left out, so refused")
		r.Close()
	}
}

// Even with a valid MAC, a stored document holds no inline secret, and a
// sealed one takes no encoding.
func TestStoredDocumentsHoldNoInlineSecrets(t *testing.T) {
	s, err := NewStore(NewMemoryBackend(), StoreOptions{SealingKey: bytes.Repeat([]byte{5}, 32)})
	require.NoError(t, err)
	_, err = s.parse("a", signed(s, "a", inlineDoc))
	require.ErrorIs(t, err, ErrSecret)
	require.Equal(t, []string{"connections[0].keys[0].secret"}, fields(err))

	sealed := s.seal(sealAAD("a", "keys", "k1", "secret"), []byte("a-sealed-secret-of-enough-length-0123456789"))
	for _, extra := range []string{", encoding: hex", ", insecure_inline: true"} {
		doc := "connections:\n- id: a\n  allowed_domains: [https://a.example]\n  token: {issuer: https://b.example}\n  keys:\n  - id: k1\n    secret: {sealed: " + sealed + extra + "}\n"
		_, err = s.parse("a", signed(s, "a", doc))
		require.ErrorIs(t, err, ErrSecret, extra)
		_, err = s.parse("a", signed(s, "a", doc[:len(doc)-len(extra)-2]+"}\n"))
		require.NoError(t, err, "the same without "+extra)
	}
}
