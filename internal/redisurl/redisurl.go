// Package redisurl turns one setting — a URL — into the go-redis client
// for any deployment shape msgsec's Redis adapters run on: a standalone
// server, a Redis Cluster, or a primary with replicas managed by Sentinel.
// The example servers' -redis flags and the msgsec CLI's --redis all read
// it, so an operator names the topology once, the same way everywhere.
//
// The forms (userinfo is optional everywhere; rediss… is the same over TLS):
//
//	redis://[user:password@]host:port[/db]          standalone (go-redis ParseURL)
//	rediss://[user:password@]host:port[/db]
//	redis-cluster://[user:password@]host1:port,host2:port[,…]
//	rediss-cluster://…                               Cluster seed nodes; database 0 only
//	redis-sentinel://[user:password@]host1:26379,host2:26379/<master-name>[?db=N]
//	rediss-sentinel://…                              Sentinel addresses and the master set
//
// A Cluster takes one or more seed nodes, comma-separated, and discovers
// the rest (default port 6379). A Sentinel URL lists the sentinels
// (default port 26379) and names the master set in its path; its userinfo
// authenticates to the primary and replicas, and the sentinels' own
// credentials, when they have any, go in sentinel_username= and
// sentinel_password=. Every form takes go-redis's query options
// (dial_timeout=, pool_size=, …; see ParseURL, ParseClusterURL and
// ParseFailoverURL in github.com/redis/go-redis/v9); unknown ones are
// refused.
//
// A redis:// URL that points at one node of a Cluster works too: Connect
// asks the server (INFO cluster) and, when cluster_enabled is 1, returns a
// Cluster client seeded with that node, so a managed Cluster's single
// configuration endpoint is enough.
//
// ContextTimeoutEnabled is always on (msgsec's adapters refuse a client
// without it: their Timeout must bound every call). No password ever
// appears in String or in an error: userinfo and password options are
// shown as "xxxxx".
package redisurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kind is the deployment shape a URL names.
type Kind int

const (
	// Standalone is one server (redis://, rediss://). Connect may find
	// that it is a Cluster node and return a Cluster client.
	Standalone Kind = iota + 1
	// Cluster is a Redis Cluster (redis-cluster://, rediss-cluster://).
	Cluster
	// Sentinel is a Sentinel-managed master set (redis-sentinel://,
	// rediss-sentinel://).
	Sentinel
)

func (k Kind) String() string {
	switch k {
	case Standalone:
		return "standalone"
	case Cluster:
		return "cluster"
	case Sentinel:
		return "sentinel"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ErrInvalid is matched (errors.Is) by every error Parse returns.
var ErrInvalid = errors.New("invalid redis URL")

// Forms is a one-line summary of the accepted forms, for flag help.
const Forms = "redis://[user:pass@]host:port/db, rediss://…, redis-cluster://host1:port,host2:port, " +
	"redis-sentinel://host1:26379,host2:26379/<master-name>?db=0"

// URL is a parsed Redis URL: what to connect to and how. Its zero value is
// not usable; get one from Parse.
type URL struct {
	kind     Kind
	tls      bool
	addrs    []string
	redacted string

	simple   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

// Kind is the shape the URL names (before any probing by Connect).
func (u *URL) Kind() Kind { return u.kind }

// Addrs are the host:port pairs the URL names: the server, the Cluster
// seed nodes or the sentinels. A caller checking where it may connect
// (only to loopback, say) checks these.
func (u *URL) Addrs() []string { return append([]string(nil), u.addrs...) }

// String is the URL with its secrets replaced by "xxxxx", safe to log.
func (u *URL) String() string { return u.redacted }

// MasterName is the Sentinel master set's name ("" for other kinds).
func (u *URL) MasterName() string {
	if u.failover == nil {
		return ""
	}
	return u.failover.MasterName
}

// parseError is Parse's error: a reason and the redacted input.
type parseError struct {
	redacted, reason string
}

func (e *parseError) Error() string {
	if e.redacted == "" {
		return "invalid redis URL: " + e.reason
	}
	return "invalid redis URL " + strconv.Quote(e.redacted) + ": " + e.reason
}

func (e *parseError) Unwrap() error { return ErrInvalid }

// Parse reads a URL in one of the package's forms. It does not contact
// Redis. Its errors never quote a password.
func Parse(raw string) (*URL, error) {
	red := Redact(raw)
	fail := func(format string, args ...any) (*URL, error) {
		return nil, &parseError{redacted: red, reason: fmt.Sprintf(format, args...)}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || raw == "" {
		return fail("want %s", Forms)
	}
	scheme = strings.ToLower(scheme)
	u := &URL{redacted: red}
	switch scheme {
	case "redis", "rediss":
		u.kind = Standalone
	case "redis-cluster", "rediss-cluster":
		u.kind = Cluster
	case "redis-sentinel", "rediss-sentinel":
		u.kind = Sentinel
	default:
		return fail("unknown scheme %q: want %s", scheme, Forms)
	}
	u.tls = strings.HasPrefix(scheme, "rediss")
	base := "redis"
	if u.tls {
		base = "rediss"
	}

	// Split the authority (userinfo and host list) from path and query by
	// hand: a host list is not a URL host.
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if strings.Contains(tail, "#") {
		return fail("a fragment (#) has no meaning here")
	}
	var userinfo *url.Userinfo
	hostList := authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		ui, err := url.Parse("redis://" + authority[:i] + "@localhost")
		if err != nil || ui.User == nil {
			return fail("malformed user:password (percent-encode special characters)")
		}
		userinfo, hostList = ui.User, authority[i+1:]
	}
	defPort := "6379"
	if u.kind == Sentinel {
		defPort = "26379"
	}
	if hostList == "" {
		return fail("no host")
	}
	if u.kind == Standalone && strings.Contains(hostList, ",") {
		return fail("several hosts: use redis-cluster:// or redis-sentinel://")
	}
	for _, h := range strings.Split(hostList, ",") {
		addr, err := hostPort(h, defPort)
		if err != nil {
			return fail("%v", err)
		}
		u.addrs = append(u.addrs, addr)
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fail("malformed query")
	}
	for _, k := range []string{"addr", "master_name"} {
		if query.Has(k) {
			return fail("the %s option is not taken here: list hosts before the path, name a Sentinel master set in the path", k)
		}
	}

	switch u.kind {
	case Standalone:
		// go-redis's own parser, on the URL as given (with the host list
		// checked above).
		opt, err := redis.ParseURL(base + "://" + rest)
		if err != nil {
			return fail("%s", goRedisReason(err))
		}
		opt.ContextTimeoutEnabled = true
		u.simple = opt
	case Cluster:
		switch strings.Trim(path, "/") {
		case "", "0":
		default:
			return fail("a Cluster has only database 0 (path %q)", path)
		}
		if query.Has("db") {
			return fail("a Cluster has only database 0 (db option)")
		}
		for _, a := range u.addrs[1:] {
			query.Add("addr", a)
		}
		seed := &url.URL{Scheme: base, User: userinfo, Host: u.addrs[0], RawQuery: query.Encode()}
		opt, err := redis.ParseClusterURL(seed.String())
		if err != nil {
			return fail("%s", goRedisReason(err))
		}
		opt.ContextTimeoutEnabled = true
		u.cluster = opt
	case Sentinel:
		master := strings.Trim(path, "/")
		if master == "" || strings.Contains(master, "/") {
			return fail("name the Sentinel master set as the path: redis-sentinel://host:26379,…/<master-name>")
		}
		if m, err := url.PathUnescape(master); err == nil {
			master = m
		}
		for _, k := range []string{"username", "password"} {
			if query.Has(k) {
				return fail("the %s option is not taken here: give the primary's credentials as user:password@, the sentinels' as sentinel_username= and sentinel_password=", k)
			}
		}
		sUser, sPass := query.Get("sentinel_username"), query.Get("sentinel_password")
		query.Del("sentinel_username")
		query.Del("sentinel_password")
		query.Set("master_name", master)
		for _, a := range u.addrs[1:] {
			query.Add("addr", a)
		}
		first := &url.URL{Scheme: base, Host: u.addrs[0], RawQuery: query.Encode()}
		opt, err := redis.ParseFailoverURL(first.String())
		if err != nil {
			return fail("%s", goRedisReason(err))
		}
		if userinfo != nil {
			opt.Username = userinfo.Username()
			opt.Password, _ = userinfo.Password()
		}
		if opt.RouteByLatency || opt.RouteRandomly {
			return fail("route_by_latency and route_randomly need a client of replicas, which msgsec does not use")
		}
		opt.SentinelUsername, opt.SentinelPassword = sUser, sPass
		opt.ContextTimeoutEnabled = true
		u.failover = opt
	}
	return u, nil
}

// hostPort checks one host[:port] of a host list and adds the default
// port.
func hostPort(h, defPort string) (string, error) {
	if h == "" {
		return "", errors.New("an empty host in the host list")
	}
	host, port := h, defPort
	if strings.HasPrefix(h, "[") { // [ipv6]:port or [ipv6]
		end := strings.Index(h, "]")
		if end < 0 {
			return "", fmt.Errorf("host %q: unclosed [", h)
		}
		host = h[1:end]
		switch after := h[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
		default:
			return "", fmt.Errorf("host %q: want [address]:port", h)
		}
	} else if i := strings.LastIndex(h, ":"); i >= 0 {
		host, port = h[:i], h[i+1:]
		if strings.Contains(host, ":") {
			return "", fmt.Errorf("host %q: write an IPv6 address in brackets", h)
		}
	}
	if host == "" {
		return "", fmt.Errorf("host %q: no host name", h)
	}
	if strings.ContainsAny(host, " \t%/\\") {
		return "", fmt.Errorf("host %q: not a host name", h)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("host %q: port must be 1 to 65535", h)
	}
	return net.JoinHostPort(host, port), nil
}

// goRedisReason is a go-redis parse error without what could hold a
// secret: url.Parse's errors quote the whole URL.
func goRedisReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return "not a valid URL"
	}
	return strings.TrimPrefix(err.Error(), "redis: ")
}

// secretOptions are query options whose values are secrets.
var secretOptions = []string{"password", "sentinel_password"}

// Redact returns raw with its userinfo password and secret query options
// replaced by "xxxxx", for messages about a URL that may not even parse.
func Redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		// Not a URL: it could be anything, even a bare password.
		return "xxxxx"
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		user, _, hasPass := strings.Cut(authority[:i], ":")
		if hasPass {
			authority = user + ":xxxxx" + authority[i:]
		}
	}
	if q := strings.IndexByte(tail, '?'); q >= 0 {
		path, query := tail[:q], tail[q+1:]
		frag := ""
		if f := strings.IndexByte(query, '#'); f >= 0 {
			query, frag = query[:f], query[f:]
		}
		parts := strings.Split(query, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			for _, s := range secretOptions {
				if strings.EqualFold(k, s) {
					parts[i] = s + "=xxxxx"
				}
			}
		}
		tail = path + "?" + strings.Join(parts, "&") + frag
	}
	return scheme + "://" + authority + tail
}

// Client returns a client for the URL as written, without contacting
// Redis: a *redis.Client (standalone, or Sentinel's failover client) or a
// *redis.ClusterClient. A redis:// URL gives a standalone client even if
// the server is a Cluster node; Connect finds that out.
func (u *URL) Client() redis.UniversalClient {
	switch u.kind {
	case Cluster:
		return redis.NewClusterClient(u.cluster)
	case Sentinel:
		return redis.NewFailoverClient(u.failover)
	}
	return redis.NewClient(u.simple)
}

// Connect returns a client for the URL once Redis has answered a PING
// (within ctx). For a redis:// URL it first asks the server whether it
// is a Cluster node (INFO cluster) and, if so, returns a Cluster client
// seeded with it. Its errors name the redacted URL, never a password.
func (u *URL) Connect(ctx context.Context) (redis.UniversalClient, error) {
	c := u.Client()
	if u.kind == Standalone {
		cluster, err := isClusterNode(ctx, c)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("redis at %s does not answer: %w", u.redacted, err)
		}
		if cluster {
			if u.simple.DB != 0 {
				c.Close()
				return nil, fmt.Errorf("redis at %s is a Cluster node, and a Cluster has only database 0", u.redacted)
			}
			c.Close()
			c = redis.NewClusterClient(clusterOptions(u.simple))
		}
	}
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis at %s does not answer: %w", u.redacted, err)
	}
	return c, nil
}

// Open parses raw and connects (Parse, then Connect).
func Open(ctx context.Context, raw string) (redis.UniversalClient, *URL, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	c, err := u.Connect(ctx)
	if err != nil {
		return nil, u, err
	}
	return c, u, nil
}

// DefaultConnectTimeout is how long the commands give Connect.
const DefaultConnectTimeout = 5 * time.Second

// isClusterNode asks a server whether cluster mode is on. A server that
// refuses INFO (renamed, or denied by an ACL) is taken as standalone; a
// server that does not answer is an error.
func isClusterNode(ctx context.Context, c redis.UniversalClient) (bool, error) {
	info, err := c.Info(ctx, "cluster").Result()
	if err != nil {
		var re redis.Error
		if errors.As(err, &re) && !errors.Is(err, context.DeadlineExceeded) {
			return false, nil // a reply, just not INFO's
		}
		return false, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_enabled:"); ok {
			return v == "1", nil
		}
	}
	return false, nil
}

// clusterOptions are a standalone URL's options for a Cluster client
// seeded with its address.
func clusterOptions(o *redis.Options) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                 []string{o.Addr},
		ClientName:            o.ClientName,
		Protocol:              o.Protocol,
		Username:              o.Username,
		Password:              o.Password,
		MaxRetries:            o.MaxRetries,
		MinRetryBackoff:       o.MinRetryBackoff,
		MaxRetryBackoff:       o.MaxRetryBackoff,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		ContextTimeoutEnabled: true,
		PoolFIFO:              o.PoolFIFO,
		PoolSize:              o.PoolSize,
		PoolTimeout:           o.PoolTimeout,
		MinIdleConns:          o.MinIdleConns,
		MaxIdleConns:          o.MaxIdleConns,
		MaxActiveConns:        o.MaxActiveConns,
		ConnMaxIdleTime:       o.ConnMaxIdleTime,
		ConnMaxLifetime:       o.ConnMaxLifetime,
		TLSConfig:             o.TLSConfig,
	}
}
