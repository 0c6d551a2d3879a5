package loopback

import "testing"

func TestHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "app.localhost": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true,
		"127.evil.example": false, "localhost.evil.example": false, "evillocalhost": false,
		"10.0.0.1": false, "::2": false, "[fe80::1%eth0]": false, "": false, "example.com": false,
	} {
		if got := Host(h); got != want {
			t.Errorf("Host(%q) = %v, want %v", h, got, want)
		}
	}
}
