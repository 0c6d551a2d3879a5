package loopback_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/msgsec/msgsec/internal/loopback"
)

func TestHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "app.localhost": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true,
		"127.evil.example": false, "localhost.evil.example": false, "evillocalhost": false,
		"10.0.0.1": false, "::2": false, "[fe80::1%eth0]": false, "": false, "example.com": false,
	} {
		assert.Equalf(t, want, loopback.Host(h), "Host(%q)", h)
	}
}
