package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// SignerConfig returns what a secretdata.Signer needs to mint this
// connection's tokens: an HMAC key of the (loaded) policy that is active
// at now — the one with ID kid, or the first that can sign when kid is
// empty — and the policy's issuer, audience, maximum lifetime and token
// type (token.type). Set
// Lifetime (and Now, for tests) and call secretdata.NewSigner.
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
		return secretdata.SignerConfig{
			Key: key, Issuer: c.Token.Issuer, Audience: c.effectiveAudience(), MaxLifetime: c.maxLifetime(),
			Type: c.Token.Type,
		}, nil
	}
	if kid != "" {
		return secretdata.SignerConfig{}, fmt.Errorf("no key %q", kid)
	}
	return secretdata.SignerConfig{}, errors.New("no active key can sign (only HMAC secrets can sign here)")
}

func activeAt(k secretdata.Key, now time.Time) bool {
	notBefore, retireAfter := k.Validity()
	return (notBefore.IsZero() || !now.Before(notBefore)) &&
		(retireAfter.IsZero() || !now.After(retireAfter))
}
