// Package loopback tells whether a host name or address is this machine,
// the one test msgsec uses wherever plain http is tolerated (policy JWKS
// URLs, the delivery client, origin patterns, the load tool).
package loopback

import (
	"net/netip"
	"strings"
)

// Host reports whether host (a name, an IPv4 address, or an IPv6 address
// with or without brackets; no port) is loopback: "localhost", a name under
// ".localhost" (RFC 6761), 127.0.0.0/8 or ::1. Names that merely look like
// addresses ("127.evil.example") are not.
func Host(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}
