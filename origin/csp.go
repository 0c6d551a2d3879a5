package origin

// CSPSources returns CSP host-source expressions (CSP Level 3) that admit
// the same origins as the matcher, for "frame-ancestors" on widget pages:
// an exact origin as itself, a wildcard as "*.suffix", ":*" for any port, a
// same-site entry as its registrable domain and every subdomain on any port,
// and "*" as "https: http:" (any web page, never opaque origins). An empty
// matcher yields "'none'".
//
// CSP cannot express a public-suffix boundary below a listed site, so in
// same-site mode the sources may be broader than Allows for hosts under a
// private suffix (s3.amazonaws.com below amazonaws.com); Allows stays the
// authority for requests.
func (m *Matcher) CSPSources() []string {
	if m == nil || len(m.patterns) == 0 {
		return []string{"'none'"}
	}
	var out []string
	seen := make(map[string]bool)
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range m.patterns {
		if p.kind == kindAny {
			return []string{"https:", "http:"}
		}
		add(p.norm)
		if m.sameSite {
			site := p.site()
			add(p.scheme.String() + "://" + site + ":*")
			if p.hkind == hostDNS {
				add(p.scheme.String() + "://*." + site + ":*")
			}
		}
	}
	return out
}
