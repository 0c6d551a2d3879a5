package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
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
				if _, err := b.Write([]byte(line)); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != "" && tt.lines*len(line) < 64<<10 {
				t.Fatal("written before a flush")
			}
			tt.wait(b)
			got := out.String()
			if n := strings.Count(got, line); n == 0 || (tt.name != "flushed when the buffer fills" && n != tt.lines) {
				t.Fatalf("%d of %d lines written", n, tt.lines)
			}
			if !strings.HasSuffix(got, "\n") {
				t.Fatal("a line was split")
			}
		})
	}
}
