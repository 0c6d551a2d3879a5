package secretdata

import (
	"context"
	"time"
)

// Hooks for the external tests (package secretdata_test): knobs no caller
// needs, which the tests shorten.

// NewRemoteKeySetWithMinInterval is NewRemoteKeySet with the bound on
// kid-triggered refreshes set to minInterval instead of a minute.
func NewRemoteKeySetWithMinInterval(ctx context.Context, cfg RemoteKeySetConfig, minInterval time.Duration) (*RemoteKeySet, error) {
	return newRemoteKeySet(ctx, cfg, minInterval)
}

// Refresh fetches the set now, as the background refresh does.
func (s *RemoteKeySet) Refresh(ctx context.Context) ([]Key, error) { return s.refresh(ctx) }
