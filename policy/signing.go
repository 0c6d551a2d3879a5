package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/msgsec/msgsec/internal/policyview"
	"github.com/msgsec/msgsec/secretdata"
)

// SignerConfig returns what a secretdata.Signer needs to mint this
// connection's tokens: an HMAC key of the (loaded) policy that is active
// at now — the one with ID kid, or the first that can sign when kid is
// empty — the policy's issuer, audience, maximum lifetime and token type
// (token.type), and, when the connection has decryption keys (it then
// takes only JWE), the first of them as Encryption. Set Lifetime (and Now,
// for tests) and call secretdata.NewSigner.
//
// It is for the bank's side and for tools (the msgsec CLI, tests, demos); a
// chat server only verifies and never needs it. Public keys cannot sign.
func (c *ConnectionPolicy) SignerConfig(kid string, now time.Time) (secretdata.SignerConfig, error) {
	for i := range c.Keys {
		k := &c.Keys[i]
		if kid != "" && k.ID != kid {
			continue
		}
		key, _, err := k.build()
		switch {
		case err != nil:
			return secretdata.SignerConfig{}, fmt.Errorf("key %q: %w", k.ID, err)
		case !key.CanSign():
			if kid != "" {
				return secretdata.SignerConfig{}, fmt.Errorf("key %q is a public key; only HMAC secrets can sign here", kid)
			}
			continue
		case !activeAt(key, now):
			if kid != "" {
				return secretdata.SignerConfig{}, fmt.Errorf("key %q is not active now (see its not_before and retire_after)", kid)
			}
			continue
		}
		cfg, err := c.signerBase()
		cfg.Key = key
		return cfg, err
	}
	if kid != "" {
		return secretdata.SignerConfig{}, fmt.Errorf("no key %q", kid)
	}
	return secretdata.SignerConfig{}, errors.New("no active key can sign (only HMAC secrets can sign here)")
}

// signerBase is a SignerConfig without its Key.
func (c *ConnectionPolicy) signerBase() (secretdata.SignerConfig, error) {
	cfg := secretdata.SignerConfig{Issuer: c.Token.Issuer, Audience: c.effectiveAudience(), MaxLifetime: c.maxLifetime(), Type: c.Token.Type}
	if len(c.DecryptionKeys) > 0 {
		enc, _, err := c.DecryptionKeys[0].build()
		if err != nil {
			return secretdata.SignerConfig{}, fmt.Errorf("decryption key %q: %w", c.DecryptionKeys[0].ID, err)
		}
		cfg.Encryption = enc
	}
	return cfg, nil
}

func init() {
	policyview.SignerBase = func(c any) (secretdata.SignerConfig, error) { return c.(*ConnectionPolicy).signerBase() }
}

func activeAt(k secretdata.Key, now time.Time) bool {
	notBefore, retireAfter := k.Validity()
	return (notBefore.IsZero() || !now.Before(notBefore)) &&
		(retireAfter.IsZero() || !now.After(retireAfter))
}
