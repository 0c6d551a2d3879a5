package cookies_test

import (
	"testing"

	"github.com/msgsec/msgsec/cookies"
	"github.com/stretchr/testify/assert"
)

func TestIsSensitiveName(t *testing.T) {
	sensitive := []string{
		"JSESSIONID", "jsessionid", "PHPSESSID", "ASP.NET_SessionId", "ASPSESSIONIDQSBRTCDA", "connect.sid",
		"laravel_session", "sessionid", "session", "_myapp_session", "ci_session", "SID", "HSID", "SAPISID",
		"__Secure-1PSID", "__Host-GAPS", "__HOST-x", "__host-x", "__secure-x", "__Http-x", "__Host-Http-x",
		"XSRF-TOKEN", "csrftoken", "_csrf", "access_token", "id_token", "refresh_token", "auth", ".ASPXAUTH",
		"oauth_state", "jwt", "my_JWT", ".AspNetCore.Cookies", ".AspNetCore.Antiforgery.abc", "wordpress_logged_in_abc",
		"wordpress_sec_abc", "remember_user_token", "remember-me", "SMSESSION", "LtpaToken2", "cf_clearance",
		"iPlanetDirectoryPro", "CASTGC", "TGC", "CFID", "CFTOKEN", "idx", "DT", "PF", "KEYCLOAK_IDENTITY",
		"KC_RESTART", "AUTH_SESSION_ID", "login_state", "logged_in", "password", "user_pwd", "client_secret",
		"credentials", "apikey", "x-api-key", "API_KEY", "bearer", "SAMLRequest", "sso_id", "oidc_nonce",
		"service_ticket", "nonce", "mfa_pending", "NSC_AAAC", "__RequestVerificationToken",
	}
	for _, name := range sensitive {
		assert.True(t, cookies.IsSensitiveName(name), "IsSensitiveName(%q)", name)
	}
	public := []string{
		"page_viewed", "cart_contents", "lang", "_ga", "_gid", "theme", "campaign", "currency", "consent_level",
		"recently_viewed", "tz", "ab_test", "OptanonConsent", "_fbp", "AWSALB", "BIGipServerpool", "utm_source",
		"", "x", "_", "__", "__Hos", "pfx", "idxs", "dtm",
	}
	for _, name := range public {
		assert.False(t, cookies.IsSensitiveName(name), "IsSensitiveName(%q)", name)
	}
}
