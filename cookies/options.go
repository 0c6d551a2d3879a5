package cookies

import (
	"strconv"

	"github.com/msgsec/msgsec/cfgerr"
)

// Default limits. They follow the minimums RFC 6265 §6.1 asks browsers to
// support (4096 bytes per cookie including its name, 50 cookies per domain)
// and keep the context passed to the chat server small.
const (
	DefaultMaxCookieBytes = 4096
	DefaultMaxCount       = 50
	DefaultMaxTotalBytes  = 8192
)

// Option configures an [Allowlist]. Options are checked by [NewAllowlist];
// invalid values are reported in its error, never silently corrected.
type Option func(*config)

type config struct {
	maxCookieBytes int
	maxCount       int
	maxTotalBytes  int
	allowSensitive bool
	problems       []*cfgerr.Error
}

func (c *config) limit(name string, dst *int, n int) {
	if n <= 0 {
		c.problems = append(c.problems, &cfgerr.Error{Field: name, Value: strconv.Itoa(n), Reason: reasonLimit, Kind: ErrInvalidAllowlist})
		return
	}
	*dst = n
}

// WithMaxCookieBytes sets the largest cookie forwarded, counting the bytes
// of its name and its value as sent (quotes included). Larger cookies are
// dropped with [ReasonTooLarge]. Default [DefaultMaxCookieBytes].
func WithMaxCookieBytes(n int) Option {
	return func(c *config) { c.limit("WithMaxCookieBytes", &c.maxCookieBytes, n) }
}

// WithMaxCount sets how many cookies are forwarded at most. Once that many
// are kept, every further cookie that would have been forwarded is dropped
// with [ReasonTooMany]. Default [DefaultMaxCount].
func WithMaxCount(n int) Option {
	return func(c *config) { c.limit("WithMaxCount", &c.maxCount, n) }
}

// WithMaxTotalBytes sets the largest total, over all forwarded cookies, of
// name plus value bytes. The first cookie that would exceed it, and every
// cookie after it, is dropped with [ReasonTotalTooLarge]. Default
// [DefaultMaxTotalBytes].
func WithMaxTotalBytes(n int) Option {
	return func(c *config) { c.limit("WithMaxTotalBytes", &c.maxTotalBytes, n) }
}

// DangerouslyAllowSensitiveNames lets the allowlist name cookies that
// usually hold sessions or credentials (see [IsSensitiveName]), and lets
// prefix entries admit such names. Use it only when you have checked that
// the cookie carries nothing private: whatever the allowlist admits is
// attached to chat interactions and seen by agents and chat code.
func DangerouslyAllowSensitiveNames() Option {
	return func(c *config) { c.allowSensitive = true }
}
