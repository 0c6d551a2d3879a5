package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// batchedWriter batches log lines before they reach the underlying
// writer. The middleware logs every denial, and under an attack-heavy load
// one write(2) per line cost about a tenth of the server's CPU (profiled
// with -cpuprofile). Lines reach w within flushEvery, at once when 64 KiB
// are waiting, and on Close; a crash can lose at most the last flushEvery
// of logs.
type batchedWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const flushEvery = 100 * time.Millisecond

func newBatchedWriter(w io.Writer) *batchedWriter {
	b := &batchedWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushLoop()
	return b
}

// Write implements io.Writer. slog writes each record in one call, so a
// record is never split across flushes.
func (b *batchedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *batchedWriter) flushLoop() {
	defer close(b.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.flush()
		}
	}
}

func (b *batchedWriter) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.buf.Flush()
}

// Close stops the flushing goroutine and writes what is left.
func (b *batchedWriter) Close() error {
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Flush()
}
