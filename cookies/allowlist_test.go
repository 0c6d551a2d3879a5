package cookies_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
)

func TestNewAllowlistRefusesEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  error
	}{
		{"empty entry", "", cookies.ErrEmptyEntry},
		{"bare star allows everything", "*", cookies.ErrBadPattern},
		{"star not at the end", "cart_*_x", cookies.ErrBadPattern},
		{"leading star", "*_viewed", cookies.ErrBadPattern},
		{"two stars", "cart**", cookies.ErrBadPattern},
		{"space in name", "page viewed", cookies.ErrNotToken},
		{"leading space", " page_viewed", cookies.ErrNotToken},
		{"no-break space prefix", "\u00a0page_viewed", cookies.ErrNotToken},
		{"non-ASCII", "päge", cookies.ErrNotToken},
		{"equals sign", "lang=en", cookies.ErrNotToken},
		{"separator in prefix", "cart;*", cookies.ErrNotToken},
		{"dollar name", "$Version", cookies.ErrReservedName},
		{"dollar prefix", "$*", cookies.ErrReservedName},
		{"JSESSIONID", "JSESSIONID", cookies.ErrSensitiveName},
		{"PHPSESSID", "PHPSESSID", cookies.ErrSensitiveName},
		{"ASP.NET_SessionId", "ASP.NET_SessionId", cookies.ErrSensitiveName},
		{"connect.sid", "connect.sid", cookies.ErrSensitiveName},
		{"__Host- name", "__Host-pref", cookies.ErrSensitiveName},
		{"__HOST- name", "__HOST-pref", cookies.ErrSensitiveName},
		{"__host- name", "__host-pref", cookies.ErrSensitiveName},
		{"__Secure- name", "__Secure-pref", cookies.ErrSensitiveName},
		{"__SECURE- name", "__SECURE-pref", cookies.ErrSensitiveName},
		{"prefix covering __Host-", "__*", cookies.ErrSensitiveName},
		{"prefix covering __Host- and _ga", "_*", cookies.ErrSensitiveName},
		{"prefix covering JSESSIONID", "JSESS*", cookies.ErrSensitiveName},
		{"short prefix covering JSESSIONID", "JS*", cookies.ErrSensitiveName},
		{"prefix covering PHPSESSID", "php*", cookies.ErrSensitiveName},
		{"prefix covering ASP.NET_SessionId", "ASP.*", cookies.ErrSensitiveName},
		{"prefix covering connect.sid", "conn*", cookies.ErrSensitiveName},
		{"prefix covering token", "tok*", cookies.ErrSensitiveName},
		{"prefix covering session", "Se*", cookies.ErrSensitiveName},
		{"prefix that is itself sensitive", "user_session_*", cookies.ErrSensitiveName},
		{"prefix inside __Host-", "__Ho*", cookies.ErrSensitiveName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := cookies.NewAllowlist([]string{"page_viewed", tt.entry})
			if a != nil || err == nil {
				t.Fatalf("NewAllowlist accepted %q", tt.entry)
			}
			if !errors.Is(err, cookies.ErrInvalidAllowlist) || !errors.Is(err, tt.want) {
				t.Fatalf("error %v: want ErrInvalidAllowlist and %v", err, tt.want)
			}
			var ee *cookies.EntryError
			if !errors.As(err, &ee) || ee.Index != 1 || ee.Entry != tt.entry {
				t.Fatalf("EntryError = %+v, want index 1 entry %q", ee, tt.entry)
			}
		})
	}
}

func TestNewAllowlistAcceptsEntries(t *testing.T) {
	for _, entry := range []string{
		"page_viewed", "cart_contents", "cart_*", "page_*", "lang", "_ga", "utm_*", "ab-test.variant",
		"Page_Viewed", "x", "consent_level", "currency", "theme", "campaign",
	} {
		if _, err := cookies.NewAllowlist([]string{entry}); err != nil {
			t.Errorf("NewAllowlist(%q): %v", entry, err)
		}
	}
}

func TestNewAllowlistReportsEveryProblemAtOnce(t *testing.T) {
	_, err := cookies.NewAllowlist(
		[]string{"lang", "*", "JSESSIONID", "lang", "ok_*", "bad name"},
		cookies.WithMaxCount(0), cookies.WithMaxTotalBytes(-1), cookies.WithMaxCookieBytes(0),
	)
	var ae *cookies.AllowlistError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *AllowlistError", err)
	}
	var got []string
	for _, e := range ae.Entries {
		got = append(got, e.Entry)
	}
	if want := []string{"*", "JSESSIONID", "lang", "bad name"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	if ae.Entries[2].Index != 3 || !errors.Is(ae.Entries[2], cookies.ErrDuplicateEntry) {
		t.Fatalf("duplicate reported as %+v", ae.Entries[2])
	}
	var opts []string
	for _, o := range ae.Options {
		if !errors.Is(o, cookies.ErrInvalidLimit) {
			t.Errorf("option error %v does not match ErrInvalidLimit", o)
		}
		opts = append(opts, o.Option)
	}
	if want := []string{"WithMaxCount", "WithMaxTotalBytes", "WithMaxCookieBytes"}; !reflect.DeepEqual(opts, want) {
		t.Fatalf("options %q, want %q", opts, want)
	}
	msg := err.Error()
	for _, part := range []string{"entry 1", "entry 2", "entry 3", "entry 5", "WithMaxCount(0)"} {
		if !strings.Contains(msg, part) {
			t.Errorf("message %q lacks %q", msg, part)
		}
	}
	if msg != strings.ToLower(msg[:1])+msg[1:] || !strings.HasPrefix(msg, "cookies: invalid allowlist: ") {
		t.Errorf("message %q: want lowercase, prefixed", msg)
	}
}

func TestEntryErrorDoesNotRepeatValues(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	_, err := cookies.NewAllowlist([]string{"JSESSIONID=" + secret, strings.Repeat("x", 100) + " "})
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error repeats the value after '=': %v", err)
	}
	if strings.Contains(err.Error(), strings.Repeat("x", 65)) {
		t.Fatalf("error repeats a long entry in full: %v", err)
	}
}

func TestDangerouslyAllowSensitiveNames(t *testing.T) {
	entries := []string{"JSESSIONID", "__Host-pref", "__*", "XSRF-TOKEN"}
	a, err := cookies.NewAllowlist(entries, cookies.DangerouslyAllowSensitiveNames())
	if err != nil {
		t.Fatalf("opt-in refused: %v", err)
	}
	for _, name := range []string{"JSESSIONID", "__Host-pref", "__Secure-x", "XSRF-TOKEN"} {
		if !a.Allows(name) {
			t.Errorf("Allows(%q) = false with the opt-in", name)
		}
	}
	// The opt-in does not relax the syntax rules.
	if _, err := cookies.NewAllowlist([]string{"*"}, cookies.DangerouslyAllowSensitiveNames()); !errors.Is(err, cookies.ErrBadPattern) {
		t.Errorf("bare * with the opt-in: %v", err)
	}
	if _, err := cookies.NewAllowlist([]string{"$Version"}, cookies.DangerouslyAllowSensitiveNames()); !errors.Is(err, cookies.ErrReservedName) {
		t.Errorf("$Version with the opt-in: %v", err)
	}
}

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
		if !cookies.IsSensitiveName(name) {
			t.Errorf("IsSensitiveName(%q) = false", name)
		}
	}
	public := []string{
		"page_viewed", "cart_contents", "lang", "_ga", "_gid", "theme", "campaign", "currency", "consent_level",
		"recently_viewed", "tz", "ab_test", "OptanonConsent", "_fbp", "AWSALB", "BIGipServerpool", "utm_source",
		"", "x", "_", "__", "__Hos", "pfx", "idxs", "dtm",
	}
	for _, name := range public {
		if cookies.IsSensitiveName(name) {
			t.Errorf("IsSensitiveName(%q) = true", name)
		}
	}
}

func TestAllowlistAccessors(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_*", "lang", "utm_*"})
	if got, want := a.Names(), []string{"page_viewed", "lang"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if got, want := a.Patterns(), []string{"cart_*", "utm_*"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Patterns() = %q, want %q", got, want)
	}
	a.Names()[0] = "JSESSIONID"
	a.Patterns()[0] = "__*"
	if a.Allows("JSESSIONID") || !a.Allows("page_viewed") || a.Allows("__Host-x") {
		t.Error("Names/Patterns returned the allowlist's own slices")
	}
	tests := []struct {
		name string
		want bool
	}{
		{"page_viewed", true}, {"lang", true}, {"cart_", true}, {"cart_x", true}, {"utm_source", true},
		{"Page_Viewed", false}, {"page_viewed ", false}, {"\u00a0lang", false}, {"cart", false},
		{"cart_session", false}, {"cart_token", false}, {"", false}, {"$lang", false}, {"other", false},
	}
	for _, tt := range tests {
		if got := a.Allows(tt.name); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEmptyAllowlistAdmitsNothing(t *testing.T) {
	a := mustAllowlist(t, nil)
	if a.Allows("lang") || len(a.Names()) != 0 || len(a.Patterns()) != 0 {
		t.Fatal("empty allowlist admits something")
	}
}

func TestLongExactNames(t *testing.T) {
	long := strings.Repeat("n", 70)
	a := mustAllowlist(t, []string{long, "lang"})
	if !a.Allows(long) || a.Allows(long+"n") || a.Allows(strings.Repeat("n", 69)) {
		t.Fatal("names of 64 bytes or more are not matched exactly")
	}
}
