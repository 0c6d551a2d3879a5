package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/msgsec/msgsec/secretdata"
)

func secretNewCommand() *command {
	return &command{
		name:    "secret new",
		args:    "[--jwe] [--out FILE]",
		summary: "print a new HMAC secret (86 characters, 512 random bits)",
		help: `Prints a new random HMAC secret for a connection's JWT key: 64 bytes from
crypto/rand written as 86 characters of base64url. The string itself is
the secret: a policy's {env: NAME} or {file: PATH} reference uses its
text bytes (encoding raw, the default), as every JWT library does with a
string secret (jose's TextEncoder().encode(s), jsonwebtoken, PyJWT,
Java's s.getBytes(UTF_8), ...). Do not base64-decode it on either side.
86 bytes suit HS256, HS384 and HS512 alike.

--jwe prints a JWE key for a connection's decryption_keys instead: 32
random bytes (A256GCM) as 43 characters of base64url, which the policy
decodes (a decryption key's default encoding is base64url) and the bank
decodes too (jose.base64url.decode, JWK {"kty":"oct","k":...}).

Give it to the chat server and the bank backend through an environment
variable or a file, never through the policy file:

  export UPLUS_JWT_SECRET="$(msgsec secret new)"
  msgsec secret new --out uplus.secret     # created with mode 0600
  export UPLUS_JWE_KEY="$(msgsec secret new --jwe)"`,
		run: runSecretNew,
	}
}

func runSecretNew(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	out := fs.String("out", "", "write the secret to `FILE` (created with mode 0600, never overwritten) instead of stdout")
	jwe := fs.Bool("jwe", false, "print a JWE decryption key (32 bytes, base64url) instead of an HMAC secret")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	b := secretdata.GenerateSecret()
	if *jwe {
		b = b[:32]
	}
	text := base64.RawURLEncoding.EncodeToString(b) + "\n"
	if *out == "" {
		fmt.Fprint(c.stdout, text)
		return exitOK
	}
	if err := writeNewFile(*out, []byte(text), 0o600); err != nil {
		return c.failf(exitUsage, cmd.name, "%v", err)
	}
	fmt.Fprintf(c.stderr, "wrote a new secret to %s (mode 0600)\n", *out)
	return exitOK
}

// writeNewFile creates path with perm and writes data. It refuses to
// replace an existing file: overwriting a key by accident loses it, and
// writing through a planted symlink would put it somewhere else.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; refusing to overwrite it", path)
		}
		return fmt.Errorf("cannot create %s: %w", path, errors.Unwrap(err))
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, errors.Unwrap(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, errors.Unwrap(err))
	}
	return nil
}

// randomHex returns n random bytes in hex, for default key IDs.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}
