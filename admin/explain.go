package admin

import (
	"net"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/msgsec/msgsec/origin"
	"github.com/msgsec/msgsec/policy"
)

// explanation says, with examples, what one allowed-domain pattern admits
// and refuses, as the connection's domain matching applies it: the
// decisions are origin.Matcher.Explain's on the pattern alone.
type explanation struct {
	Pattern string    `json:"pattern"`
	Mode    string    `json:"domain_matching"`
	Admits  []example `json:"admits"`
	Refuses []example `json:"refuses"`
}

// example is one origin and the matcher's words about it.
type example struct {
	Origin string `json:"origin"`
	Why    string `json:"why"`
}

// explain probes pattern with origins around it: itself, siblings and the
// parent site, other schemes and ports, and look-alikes.
func explain(pattern string, mode policy.DomainMatching) (*explanation, error) {
	var opts []origin.Option
	if mode == policy.MatchSameSite {
		opts = append(opts, origin.SameSite())
	}
	m, err := origin.NewMatcher([]string{pattern}, opts...)
	if err != nil {
		return nil, err
	}
	if mode == "" {
		mode = policy.MatchExact
	}
	ex := &explanation{Pattern: pattern, Mode: string(mode), Admits: []example{}, Refuses: []example{}}
	if pattern == "*" {
		ex.Admits = append(ex.Admits, example{Origin: "every website", Why: "\"*\" admits any origin: the widget may run anywhere"})
		return ex, nil
	}
	seen := map[string]bool{}
	for _, o := range probes(pattern) {
		if seen[o] {
			continue
		}
		seen[o] = true
		d := m.Explain(o)
		if d.Reason == origin.ReasonMalformed || d.Reason == origin.ReasonNotCanonical || d.Reason == origin.ReasonEmpty {
			continue // not an origin a browser sends: no example
		}
		if d.Allowed {
			ex.Admits = append(ex.Admits, example{Origin: o, Why: d.Detail})
		} else {
			ex.Refuses = append(ex.Refuses, example{Origin: o, Why: d.Reason.String() + ": " + d.Detail})
		}
	}
	return ex, nil
}

func probes(pattern string) []string {
	scheme, rest, ok := strings.Cut(pattern, "://")
	if !ok || rest == "" {
		return nil
	}
	hostport := rest
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i:]
	}
	if port == ":*" {
		port = ":8080" // any port: one for the examples
	}
	if strings.HasPrefix(host, "[") || net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		// An IP or a single label (localhost): no subdomains or
		// look-alikes to show, only scheme and port.
		return []string{scheme + "://" + host + port, otherScheme(scheme) + "://" + host + port, scheme + "://" + host + ":8443"}
	}
	wild := strings.HasPrefix(host, "*.")
	base := strings.TrimPrefix(host, "*.")
	site, err := publicsuffix.EffectiveTLDPlusOne(base)
	if err != nil {
		site = base
	}
	other := otherScheme(scheme)
	s := scheme + "://"
	var out []string
	if wild {
		out = append(out, s+"app."+base+port, s+"a.b."+base+port)
	} else {
		out = append(out, s+host+port)
	}
	out = append(out,
		s+"account."+site+port,
		s+site+port,
		other+"://"+base+port,
		s+base+":8443",
		s+base+".evil.example"+port,
		s+"evil"+site+port,
	)
	if label, suffix, ok := strings.Cut(site, "."); ok && len(label) > 3 {
		out = append(out, s+"www."+label[:len(label)/2+1]+"."+suffix+port)
	}
	return out
}

func otherScheme(scheme string) string {
	if scheme == "http" {
		return "https"
	}
	return "http"
}
