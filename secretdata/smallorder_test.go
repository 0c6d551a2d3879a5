package secretdata

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// The Ed25519 points of order 1, 2, 4 and 8 (y-coordinates, little
// endian), including the non-canonical encodings y+p, as listed by
// libsodium's blocklist. Under any of them a signature can be forged.
var smallOrderKeys = []string{
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2 (p-1)
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p (= 0)
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p+1 (= 1)
}

func TestEd25519SmallOrderKeysRefused(t *testing.T) {
	for _, h := range smallOrderKeys {
		for _, sign := range []bool{false, true} {
			b, _ := hex.DecodeString(h)
			if sign {
				b[31] |= 0x80
			}
			_, err := NewPublicKey("ed", EdDSA, ed25519.PublicKey(b))
			if !errors.Is(err, ErrKeyConfig) {
				t.Errorf("%x accepted (err %v)", b, err)
			}
		}
	}
	// The forgery the check prevents: identity key, signature R=identity, S=0.
	id, _ := hex.DecodeString(smallOrderKeys[1])
	sig := make([]byte, 64)
	sig[0] = 1
	if !ed25519.Verify(id, []byte("any message"), sig) {
		t.Log("note: this Go version refuses the identity forgery by itself")
	}
}

func TestEd25519RealKeysAccepted(t *testing.T) {
	for i := 0; i < 200; i++ {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewPublicKey("ed", EdDSA, pub); err != nil {
			t.Fatalf("a generated key is refused: %v", err)
		}
	}
}

func TestHMACSecretThatIsAPublicKeyRefused(t *testing.T) {
	for name, s := range map[string]string{
		"jwk":     `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}`,
		"ssh-rsa": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA0123456789abcdefghijklmnopqrstuv user@host",
		"ecdsa":   "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT user@host",
	} {
		if _, err := NewHMACKey("k", HS256, []byte(s)); !errors.Is(err, ErrKeyConfig) || !strings.Contains(err.Error(), "public key") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWeakPublicKeysRefused(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []int{1, 2, 65536} {
		pub := priv.PublicKey
		pub.E = e
		if _, err := NewPublicKey("r", RS256, &pub); !errors.Is(err, ErrKeyConfig) {
			t.Errorf("rsa exponent %d accepted: %v", e, err)
		}
	}
	if _, err := NewPublicKey("r", RS256, &priv.PublicKey); err != nil {
		t.Errorf("a generated rsa key is refused: %v", err)
	}
	off := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	if _, err := NewPublicKey("e", ES256, off); !errors.Is(err, ErrKeyConfig) {
		t.Errorf("an off-curve point is accepted: %v", err)
	}
}
