package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"

	"github.com/msgsec/msgsec/secretdata"
)

func keysNewCommand() *command {
	return &command{
		name:    "keys new",
		args:    "--alg ES256|EdDSA|Ed25519|RS256|PS256 [--kid ID] [--out-private FILE] [--out-public FILE] [--json]",
		summary: "make a key pair: private key (PEM) and public JWKS",
		help: `Makes a signing key pair for a bank backend that signs CustomerSecretData
with a private key instead of a shared HMAC secret. Prints, in order:

  the private key   PEM, PKCS#8 ("PRIVATE KEY"), unless --out-private
  the public key    PEM, PKIX ("PUBLIC KEY"), unless --out-public: what a
                    policy's public_key reference points at
  the public JWKS   JSON, with kid, alg and use "sig": what a bank serves at
                    the URL a policy's jwks_url names

EdDSA and Ed25519 make the same kind of key (Ed25519) and differ only in
the alg name the JWKS and tokens carry: Ed25519 is RFC 9864's name, EdDSA
the older one more libraries know (PyJWT 2.6, jwcrypto 1.1, Authlib 1.2).
msgsec accepts either for the other.

The private key stays with the bank backend. Write it to a file with
--out-private (created with mode 0600, never overwritten) so it does not
land in a terminal's scrollback.

  msgsec keys new --alg ES256 --kid uplus-2027-01 \
      --out-private uplus-2027-01.key --out-public uplus-2027-01.pub > jwks.json`,
		run: runKeysNew,
	}
}

// keyPair is what keys new prints with --json.
type keyPair struct {
	KeyID      string          `json:"kid"`
	Algorithm  string          `json:"alg"`
	PrivateKey string          `json:"private_key,omitempty"`
	PublicKey  string          `json:"public_key,omitempty"`
	JWKS       json.RawMessage `json:"jwks"`
}

func runKeysNew(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	alg := fs.String("alg", "", "the `algorithm`: ES256 (ECDSA P-256), EdDSA or Ed25519 (Ed25519), RS256 or PS256 (RSA); required")
	kid := fs.String("kid", "", "the key `ID` (the token's kid); default <alg>-<random>")
	outPriv := fs.String("out-private", "", "write the private key to `FILE` (mode 0600, never overwritten)")
	outPub := fs.String("out-public", "", "write the public key PEM to `FILE` (mode 0644, never overwritten)")
	rsaBits := fs.Int("rsa-bits", 3072, "RSA modulus `bits` for RS256/PS256 (2048-8192)")
	asJSON := fs.Bool("json", false, "print one JSON object {kid, alg, private_key, public_key, jwks}")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	if *alg == "" {
		return c.failf(exitUsage, cmd.name, "--alg is required: ES256, EdDSA, Ed25519, RS256 or PS256")
	}
	a, err := keyAlgorithm(*alg)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	if *kid == "" {
		*kid = strings.ToLower(string(a)) + "-" + randomHex(4)
	}
	priv, err := generateKey(a, *rsaBits)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	// The key must be one the verifier accepts, under this ID and algorithm.
	if _, err := secretdata.NewPrivateKey(*kid, a, priv); err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	out, err := encodeKeyPair(*kid, a, priv)
	if err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	if *outPriv != "" {
		if err := writeNewFile(*outPriv, []byte(out.PrivateKey), 0o600); err != nil {
			return c.failf(exitUsage, cmd.name, "%v", err)
		}
		fmt.Fprintf(c.stderr, "wrote the private key to %s (mode 0600)\n", *outPriv)
		out.PrivateKey = ""
	}
	if *outPub != "" {
		if err := writeNewFile(*outPub, []byte(out.PublicKey), 0o644); err != nil {
			return c.failf(exitUsage, cmd.name, "%v", err)
		}
		fmt.Fprintf(c.stderr, "wrote the public key to %s\n", *outPub)
		out.PublicKey = ""
	}
	if *asJSON {
		return c.printJSON(out, exitOK)
	}
	fmt.Fprint(c.stdout, out.PrivateKey, out.PublicKey)
	fmt.Fprintf(c.stdout, "%s\n", out.JWKS)
	return exitOK
}

func keyAlgorithm(s string) (secretdata.Algorithm, error) {
	for _, a := range []secretdata.Algorithm{secretdata.ES256, secretdata.EdDSA, secretdata.Ed25519, secretdata.RS256, secretdata.PS256} {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("unsupported --alg %q: want ES256, EdDSA, Ed25519, RS256 or PS256 (HMAC secrets come from \"msgsec secret new\")", s)
}

func generateKey(a secretdata.Algorithm, rsaBits int) (crypto.Signer, error) {
	switch a {
	case secretdata.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case secretdata.EdDSA, secretdata.Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	default: // RS256, PS256
		if rsaBits < 2048 || rsaBits > 8192 {
			return nil, fmt.Errorf("--rsa-bits must be between 2048 and 8192")
		}
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
}

func encodeKeyPair(kid string, a secretdata.Algorithm, priv crypto.Signer) (*keyPair, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("cannot encode the public key: %w", err)
	}
	jwks, err := publicJWKS(kid, a, priv.Public())
	if err != nil {
		return nil, err
	}
	return &keyPair{
		KeyID:      kid,
		Algorithm:  string(a),
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		PublicKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		JWKS:       jwks,
	}, nil
}

// publicJWKS builds a one-key JWKS document for the public key (RFC 7517,
// RFC 7518 §6, RFC 8037 §2), written here with the standard library so that
// jwx stays confined to package secretdata. Only public material is
// encoded; secretdata.ParseJWKS reads it back in the tests.
func publicJWKS(kid string, a secretdata.Algorithm, pub crypto.PublicKey) (json.RawMessage, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	k := map[string]string{"kid": kid, "alg": string(a), "use": "sig"}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k["kty"], k["n"], k["e"] = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("cannot encode the JWK: not a P-256 key")
		}
		pt, err := p.Bytes() // 0x04 || X || Y, each 32 bytes
		if err != nil {
			return nil, fmt.Errorf("cannot encode the JWK: %w", err)
		}
		k["kty"], k["crv"], k["x"], k["y"] = "EC", "P-256", b64(pt[1:33]), b64(pt[33:])
	case ed25519.PublicKey:
		k["kty"], k["crv"], k["x"] = "OKP", "Ed25519", b64(p)
	default:
		return nil, fmt.Errorf("cannot encode the JWK: unsupported key type %T", pub)
	}
	b, err := json.MarshalIndent(map[string][]map[string]string{"keys": {k}}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode the JWKS: %w", err)
	}
	return b, nil
}

// printJSON writes v as indented JSON to stdout and returns code.
func (c *cli) printJSON(v any, code int) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return c.failf(exitUsage, "", "cannot write JSON: %v", err)
	}
	return code
}
