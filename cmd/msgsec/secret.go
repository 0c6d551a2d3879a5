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
		args:    "[--out FILE]",
		summary: "print a new HMAC secret (base64url, 512 bits)",
		help: `Prints a new random HMAC secret for a connection's JWT key: 64 bytes from
crypto/rand, base64url without padding, the encoding a policy's
{env: NAME} or {file: PATH} reference expects by default. 64 bytes suit
HS256, HS384 and HS512 alike.

Give it to the chat server and the bank backend through an environment
variable or a file, never through the policy file:

  export UPLUS_JWT_SECRET="$(msgsec secret new)"
  msgsec secret new --out uplus.secret     # created with mode 0600`,
		run: runSecretNew,
	}
}

func runSecretNew(c *cli, cmd *command, args []string) int {
	fs := newFlags(cmd)
	out := fs.String("out", "", "write the secret to `FILE` (created with mode 0600, never overwritten) instead of stdout")
	pos, code, ok := c.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if code, ok := c.exactArgs(cmd, pos, 0, ""); !ok {
		return code
	}
	text := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()) + "\n"
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
