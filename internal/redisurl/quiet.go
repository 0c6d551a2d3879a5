package redisurl

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Quiet silences go-redis's own logger (process-wide: call it from a main
// package). It prints every failed dial, many lines per outage, before
// msgsec's one clear error says the same; passwords never appear in it,
// but the noise hides the message that matters.
func Quiet() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
