package middleware

import (
	"context"
	"net/http"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

type ctxKey struct{}

// info is what the middleware learned about a request; one allocation.
type info struct {
	policy  *policy.Compiled
	cookies []*http.Cookie
	claims  *secretdata.Claims
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
		return i.cookies
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
