package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe for the flusher and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBatchedWriter(t *testing.T) {
	tests := []struct {
		name  string
		lines int
		wait  func(b *batchedWriter)
	}{
		{"flushed on close", 3, func(b *batchedWriter) { _ = b.Close() }},
		{"flushed by the ticker", 3, func(*batchedWriter) { time.Sleep(3 * flushEvery) }},
		{"flushed when the buffer fills", 2000, func(*batchedWriter) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out lockedBuffer
			b := newBatchedWriter(&out)
			line := strings.Repeat("x", 63) + "\n"
			for range tt.lines {
				_, err := b.Write([]byte(line))
				require.NoError(t, err)
			}
			if tt.lines*len(line) < 64<<10 {
				require.Empty(t, out.String(), "written before a flush")
			}
			tt.wait(b)
			got := out.String()
			n := strings.Count(got, line)
			require.NotZero(t, n, "no line written")
			if tt.name != "flushed when the buffer fills" {
				require.Equal(t, tt.lines, n, "lines written")
			}
			require.True(t, strings.HasSuffix(got, "\n"), "a line was split")
		})
	}
}
