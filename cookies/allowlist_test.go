package cookies_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/cookies"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What each refused entry's Reason says (a part of it).
const (
	whyEmpty     = "empty cookie name"
	whyBareStar  = "a bare * would allow every cookie"
	whyPattern   = "a name prefix followed by a single trailing *"
	whyNotToken  = "rfc 7230 token"
	whyReserved  = "names starting with $ are reserved"
	whySensitive = "session or credential"
)

func mustAllowlist(t testing.TB, names []string, opts ...cookies.Option) *cookies.Allowlist {
	t.Helper()
	a, err := cookies.NewAllowlist(names, opts...)
	require.NoError(t, err, "NewAllowlist(%q)", names)
	return a
}

// problems returns every problem in err, checking that err and each of them
// match ErrInvalidAllowlist.
func problems(t *testing.T, err error) []*cfgerr.Error {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, cookies.ErrInvalidAllowlist)
	ps := slices.Collect(cfgerr.All(err))
	for _, p := range ps {
		assert.ErrorIs(t, p, cookies.ErrInvalidAllowlist, p.Error())
	}
	return ps
}

// checkRefused checks that NewAllowlist refuses entry, given second after a
// good one, for the reason why alone.
func checkRefused(t *testing.T, entry, why string, opts ...cookies.Option) {
	t.Helper()
	a, err := cookies.NewAllowlist([]string{"page_viewed", entry}, opts...)
	assert.Nil(t, a)
	ps := problems(t, err)
	require.Len(t, ps, 1, "%v", err)
	assert.Equal(t, "[1]", ps[0].Field)
	assert.Contains(t, ps[0].Reason, why)
	if why == whySensitive {
		assert.ErrorIs(t, err, cookies.ErrSensitiveName)
	} else {
		assert.NotErrorIs(t, err, cookies.ErrSensitiveName)
	}
}

func TestNewAllowlistRefusesEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		why   string
	}{
		{"empty entry", "", whyEmpty},
		{"bare star allows everything", "*", whyBareStar},
		{"star not at the end", "cart_*_x", whyPattern},
		{"leading star", "*_viewed", whyPattern},
		{"two stars", "cart**", whyPattern},
		{"space in name", "page viewed", whyNotToken},
		{"leading space", " page_viewed", whyNotToken},
		{"no-break space prefix", "\u00a0page_viewed", whyNotToken},
		{"non-ASCII", "päge", whyNotToken},
		{"equals sign", "lang=en", whyNotToken},
		{"separator in prefix", "cart;*", whyNotToken},
		{"dollar name", "$Version", whyReserved},
		{"dollar prefix", "$*", whyReserved},
		{"JSESSIONID", "JSESSIONID", whySensitive},
		{"PHPSESSID", "PHPSESSID", whySensitive},
		{"ASP.NET_SessionId", "ASP.NET_SessionId", whySensitive},
		{"connect.sid", "connect.sid", whySensitive},
		{"__Host- name", "__Host-pref", whySensitive},
		{"__HOST- name", "__HOST-pref", whySensitive},
		{"__host- name", "__host-pref", whySensitive},
		{"__Secure- name", "__Secure-pref", whySensitive},
		{"__SECURE- name", "__SECURE-pref", whySensitive},
		{"prefix covering __Host-", "__*", whySensitive},
		{"prefix covering __Host- and _ga", "_*", whySensitive},
		{"prefix covering JSESSIONID", "JSESS*", whySensitive},
		{"short prefix covering JSESSIONID", "JS*", whySensitive},
		{"prefix covering PHPSESSID", "php*", whySensitive},
		{"prefix covering ASP.NET_SessionId", "ASP.*", whySensitive},
		{"prefix covering connect.sid", "conn*", whySensitive},
		{"prefix covering token", "tok*", whySensitive},
		{"prefix covering session", "Se*", whySensitive},
		{"prefix that is itself sensitive", "user_session_*", whySensitive},
		{"prefix inside __Host-", "__Ho*", whySensitive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.entry, tt.why)
		})
	}
}

func TestNewAllowlistAcceptsEntries(t *testing.T) {
	for _, entry := range []string{
		"page_viewed", "cart_contents", "cart_*", "page_*", "lang", "_ga", "utm_*", "ab-test.variant",
		"Page_Viewed", "x", "consent_level", "currency", "theme", "campaign",
	} {
		_, err := cookies.NewAllowlist([]string{entry})
		assert.NoError(t, err, "NewAllowlist(%q)", entry)
	}
}

// A configuration with several bad entries and bad options: NewAllowlist
// reports every problem at once, entries first (in input order), then
// options (in the order given), each naming its field and value.
func TestNewAllowlistReportsEveryProblemAtOnce(t *testing.T) {
	_, err := cookies.NewAllowlist(
		[]string{"lang", "*", "JSESSIONID", "lang", "ok_*", "bad name", "$Version"},
		cookies.WithMaxCount(0), cookies.WithMaxTotalBytes(-1), cookies.WithMaxCookieBytes(0),
	)
	type problem struct{ Field, Value, Reason string }
	var got []problem
	for _, p := range problems(t, err) {
		got = append(got, problem{p.Field, p.Value, p.Reason})
	}
	assert.Equal(t, []problem{
		{"[1]", "*", whyBareStar},
		{"[2]", "JSESSIONID", "name usually holds a session or credential"},
		{"[3]", "lang", "duplicate of entry 0"},
		{"[5]", "bad name", "not a valid cookie name (rfc 7230 token)"},
		{"[6]", "$Version", whyReserved},
		{"WithMaxCount", "0", "must be positive"},
		{"WithMaxTotalBytes", "-1", "must be positive"},
		{"WithMaxCookieBytes", "0", "must be positive"},
	}, got)
	assert.ErrorIs(t, err, cookies.ErrSensitiveName, "the sensitive entry is one of them")

	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "cookies: invalid allowlist: 8 problems\n"), msg)
	for _, part := range []string{`[1]: "*": `, `[2]: "JSESSIONID": `, `[3]: "lang": duplicate of entry 0`, `WithMaxCount: "0": must be positive`} {
		assert.Contains(t, msg, part)
	}
}

func TestNewAllowlistOneProblem(t *testing.T) {
	_, err := cookies.NewAllowlist([]string{"page_viewed", "page_viewed"})
	require.Error(t, err)
	assert.Equal(t, `cookies: invalid allowlist: [1]: "page_viewed": duplicate of entry 0`, err.Error())
}

// An entry holding "=" may be a pasted name=value pair: the value is not
// repeated. Long entries are cut.
func TestNewAllowlistErrorDoesNotRepeatValues(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	_, err := cookies.NewAllowlist([]string{"JSESSIONID=" + secret, strings.Repeat("x", 100) + " "})
	ps := problems(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, "JSESSIONID="+cfgerr.Redacted, ps[0].Value)
	assert.Equal(t, strings.Repeat("x", 64)+"…", ps[1].Value)
	assert.NotContains(t, err.Error(), secret, "the value after '=' is repeated")
	assert.NotContains(t, err.Error(), strings.Repeat("x", 65), "a long entry is repeated in full")
}

func TestDangerouslyAllowSensitiveNames(t *testing.T) {
	entries := []string{"JSESSIONID", "__Host-pref", "__*", "XSRF-TOKEN"}
	a := mustAllowlist(t, entries, cookies.DangerouslyAllowSensitiveNames())
	for _, name := range []string{"JSESSIONID", "__Host-pref", "__Secure-x", "XSRF-TOKEN"} {
		assert.True(t, a.Allows(name), "Allows(%q) with the opt-in", name)
	}
	// The opt-in does not relax the syntax rules.
	checkRefused(t, "*", whyBareStar, cookies.DangerouslyAllowSensitiveNames())
	checkRefused(t, "$Version", whyReserved, cookies.DangerouslyAllowSensitiveNames())
	checkRefused(t, "page viewed", whyNotToken, cookies.DangerouslyAllowSensitiveNames())
}

func TestAllowlistNamesAndPatterns(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_*", "lang", "utm_*"})
	assert.Equal(t, []string{"page_viewed", "lang"}, a.Names())
	assert.Equal(t, []string{"cart_*", "utm_*"}, a.Patterns())
	a.Names()[0] = "JSESSIONID"
	a.Patterns()[0] = "__*"
	assert.False(t, a.Allows("JSESSIONID"), "Names returned the allowlist's own slice")
	assert.True(t, a.Allows("page_viewed"))
	assert.False(t, a.Allows("__Host-x"), "Patterns returned the allowlist's own slice")
}

func TestAllowlistAllows(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_*", "lang", "utm_*"})
	tests := []struct {
		name string
		want bool
	}{
		{"page_viewed", true}, {"lang", true}, {"cart_", true}, {"cart_x", true}, {"utm_source", true},
		{"Page_Viewed", false}, {"page_viewed ", false}, {"\u00a0lang", false}, {"cart", false},
		{"cart_session", false}, {"cart_token", false}, {"", false}, {"$lang", false}, {"other", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, a.Allows(tt.name), "Allows(%q)", tt.name)
	}
}

func TestEmptyAllowlistAdmitsNothing(t *testing.T) {
	a := mustAllowlist(t, nil)
	assert.False(t, a.Allows("lang"))
	assert.Empty(t, a.Names())
	assert.Empty(t, a.Patterns())
	assert.Nil(t, a.Filter([]string{"lang=en"}))
}

func TestLongExactNames(t *testing.T) {
	long := strings.Repeat("n", 70)
	a := mustAllowlist(t, []string{long, "lang"})
	assert.True(t, a.Allows(long))
	assert.False(t, a.Allows(long+"n"))
	assert.False(t, a.Allows(strings.Repeat("n", 69)))
}
