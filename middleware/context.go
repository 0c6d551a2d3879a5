package middleware

import (
	"context"
	"net/http"
	"sync"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

type ctxKey struct{}

// info is what the middleware learned about a request. It is itself the
// request's context (wrapping the parent), so attaching it costs one
// allocation instead of two.
type info struct {
	context.Context
	policy *policy.Compiled
	claims *secretdata.Claims

	// The allowed cookies, built on first use from the rewritten Cookie
	// line (most handlers never ask, and building them is half the
	// middleware's allocations).
	cookieLine string
	cookiesSet bool // cookies already built (eagerly, when reporting drops)
	cookiesMu  sync.Once
	cookies    []*http.Cookie
}

// allowedCookies returns the kept cookies, building them once.
func (i *info) allowedCookies() []*http.Cookie {
	i.cookiesMu.Do(func() {
		if !i.cookiesSet && i.cookieLine != "" {
			i.cookies = i.policy.Cookies().Filter([]string{i.cookieLine})
		}
	})
	return i.cookies
}

// Value answers for ctxKey and defers everything else to the parent.
func (i *info) Value(key any) any {
	if key == (ctxKey{}) {
		return i
	}
	return i.Context.Value(key)
}

func withInfo(r *http.Request, i *info) *http.Request {
	i.Context = r.Context()
	return r.WithContext(i)
}

func fromContext(ctx context.Context) *info {
	i, _ := ctx.Value(ctxKey{}).(*info)
	return i
}

// Connection returns the compiled policy of the request's connection, or
// nil outside the middleware.
func Connection(ctx context.Context) *policy.Compiled {
	if i := fromContext(ctx); i != nil {
		return i.policy
	}
	return nil
}

// Cookies returns the allowed cookies the request carried, in order (the
// Cookie header has been rewritten to exactly these).
func Cookies(ctx context.Context) []*http.Cookie {
	if i := fromContext(ctx); i != nil {
		return i.allowedCookies()
	}
	return nil
}

// Claims returns the verified CustomerSecretData, or nil for an anonymous
// request.
func Claims(ctx context.Context) *secretdata.Claims {
	if i := fromContext(ctx); i != nil {
		return i.claims
	}
	return nil
}
