package cookies

// Which cookie names are "sensitive": names that commonly hold a session, a
// login, a CSRF secret or another credential. Such a cookie must never be
// passed to the chat server, so the allowlist refuses them unless built with
// DangerouslyAllowSensitiveNames.
//
// The lists are inside functions (array literals) rather than package
// variables so that no code can change them at run time. All entries are
// lowercase ASCII; comparisons fold ASCII case only, because cookie names
// are ASCII tokens.

// sensitiveStarts are name prefixes that mark a cookie as sensitive.
func sensitiveStarts() [10]string {
	return [...]string{
		"__host-",      // RFC 6265bis prefix, also covers __Host-Http-
		"__secure-",    // RFC 6265bis prefix
		"__http-",      // proposed HttpOnly prefix
		".aspnetcore.", // ASP.NET Core auth, session, antiforgery cookies
		"wordpress_",   // WordPress login cookies (wordpress_<hash>, …_sec_, …_logged_in_)
		"nsc_",         // Citrix NetScaler AAA session cookies
		"wp-postpass_", // WordPress post password
		"prestashop-",  // PrestaShop customer session
		"pmauser-",     // phpMyAdmin login
		"cloudfront-",  // CloudFront signed-cookie credentials
	}
}

// sensitiveExact are whole names (case-insensitive) that hold sessions but
// contain none of the substrings below.
func sensitiveExact() [20]string {
	return [...]string{
		"iplanetdirectorypro", // OpenAM / ForgeRock SSO token
		"castgc", "tgc",       // CAS ticket-granting cookie
		"cfid",      // ColdFusion session (with CFTOKEN)
		"idx", "dt", // Okta session and device token
		"pf",                    // PingFederate session
		"kc_restart",            // Keycloak login state
		"cakephp",               // CakePHP session
		"frontend", "adminhtml", // Magento sessions
		"svpncookie", "webvpn", // Fortinet and Cisco VPN sessions
		"__client",   // Clerk session
		"mybbuser",   // MyBB login
		"xf_user",    // XenForo login
		"phpmyadmin", // phpMyAdmin session
		".aspxroles", // ASP.NET role cookie
		"oam_id",     // Oracle Access Manager
		"horde",      // Horde session
	}
}

// sensitiveSubstrings are substrings that mark a cookie as sensitive
// wherever they appear in the name. They cover JSESSIONID, PHPSESSID,
// ASP.NET_SessionId, ASPSESSIONID…, connect.sid, laravel_session,
// sessionid, SID/HSID/SAPISID, XSRF-TOKEN, csrftoken, .ASPXAUTH,
// remember_user_token, SMSESSION, LtpaToken2, cf_clearance, and so on.
func sensitiveSubstrings() [27]string {
	return [...]string{
		"sess", "sid", "token", "auth", "jwt", "csrf", "xsrf",
		"login", "logged", "passw", "pwd", "secret", "cred",
		"apikey", "api_key", "api-key", "bearer", "saml", "sso", "oidc",
		"ticket", "identity", "remember", "clearance", "nonce", "mfa",
		"antiforgery",
	}
}

// IsSensitiveName reports whether a cookie name usually holds a session or
// a credential: it contains (ASCII case-insensitively) one of "sess", "sid",
// "token", "auth", "jwt", "csrf", "xsrf", "login", "logged", "passw", "pwd",
// "secret", "cred", "apikey", "api_key", "api-key", "bearer", "saml", "sso",
// "oidc", "ticket", "identity", "remember", "clearance", "nonce", "mfa",
// "antiforgery"; or it starts with "__Host-", "__Secure-", "__Http-",
// ".AspNetCore.", "wordpress_", "NSC_", "wp-postpass_", "PrestaShop-",
// "pmaUser-" or "CloudFront-"; or it is one of iPlanetDirectoryPro, CASTGC,
// TGC, CFID, idx, DT, PF, KC_RESTART, CAKEPHP, frontend, adminhtml,
// SVPNCOOKIE, webvpn, __client, mybbuser, xf_user, phpMyAdmin, .ASPXROLES,
// OAM_ID, Horde.
//
// The list errs on the side of refusing: a false positive costs an explicit
// opt-in, a false negative leaks a session to the chat server.
func IsSensitiveName(name string) bool {
	for _, p := range sensitiveStarts() {
		if hasPrefixFold(name, p) {
			return true
		}
	}
	for _, e := range sensitiveExact() {
		if len(name) == len(e) && hasPrefixFold(name, e) {
			return true
		}
	}
	for i := 0; i < len(name); i++ {
		if sensitiveAt(name[i:]) {
			return true
		}
	}
	return false
}

// sensitiveAt reports whether s starts with one of sensitiveSubstrings. It
// dispatches on the first byte so that a name is checked in one pass; this
// runs for every cookie admitted by a prefix entry. TestSensitiveAtCoversList
// keeps it in step with sensitiveSubstrings.
func sensitiveAt(s string) bool {
	has := func(k string) bool { return hasPrefixFold(s, k) }
	switch lowerASCII(s[0]) {
	case 'a':
		return has("auth") || has("apikey") || has("api_key") || has("api-key") || has("antiforgery")
	case 'b':
		return has("bearer")
	case 'c':
		return has("csrf") || has("cred") || has("clearance")
	case 'i':
		return has("identity")
	case 'j':
		return has("jwt")
	case 'l':
		return has("login") || has("logged")
	case 'm':
		return has("mfa")
	case 'n':
		return has("nonce")
	case 'o':
		return has("oidc")
	case 'p':
		return has("passw") || has("pwd")
	case 'r':
		return has("remember")
	case 's':
		return has("sess") || has("sid") || has("secret") || has("saml") || has("sso")
	case 't':
		return has("token") || has("ticket")
	case 'x':
		return has("xsrf")
	}
	return false
}

// prefixCouldBeSensitive reports whether the prefix entry p* could admit a
// sensitive name that starts where the pattern starts: p is itself
// sensitive (so every name it admits is), or p is the beginning of a
// sensitive prefix, name or substring ("__" of "__Host-", "JSE" of
// "JSESSIONID", "tok" of "token"). Names that only become sensitive further
// along ("cart_session" under "cart_*") are caught when filtering.
func prefixCouldBeSensitive(p string) bool {
	if IsSensitiveName(p) {
		return true
	}
	for _, s := range sensitiveStarts() {
		if hasPrefixFold(s, p) {
			return true
		}
	}
	for _, s := range sensitiveExact() {
		if hasPrefixFold(s, p) {
			return true
		}
	}
	for _, s := range sensitiveSubstrings() {
		if hasPrefixFold(s, p) {
			return true
		}
	}
	// Well-known names whose sensitive part is not at the start.
	for _, s := range [...]string{"jsessionid", "phpsessid", "asp.net_sessionid", "aspsessionid", "connect.sid", "laravel_session", "sessionid", "csrftoken"} {
		if hasPrefixFold(s, p) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// hasPrefixFold reports whether s starts with prefix, folding ASCII case of
// s and of prefix.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != lowerASCII(prefix[i]) {
			return false
		}
	}
	return true
}
