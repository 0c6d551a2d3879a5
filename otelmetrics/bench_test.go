package otelmetrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// BenchmarkDeniedRequest: a refused cross-site POST through the
// middleware (logger off), with no event handler (the middleware then
// builds no event at all) and with otelmetrics counting it: the cost of
// turning metrics on, per denial.
func BenchmarkDeniedRequest(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts func(s *setup) []middleware.Option
	}{
		{"no-handler", func(*setup) []middleware.Option { return nil }},
		{"otelmetrics", func(s *setup) []middleware.Option {
			return []middleware.Option{middleware.WithEventHandler(s.m.MiddlewareEvent)}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newSetup(b, "retail-bank")
			mw, err := middleware.ForRegistry(s.reg, append(bc.opts(s), middleware.WithLogger(nil))...)
			if err != nil {
				b.Fatal(err)
			}
			h := mw.Handler(http.NotFoundHandler())
			r := httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions", nil)
			r.SetPathValue("connection", "retail-bank")
			r.Header.Set("Origin", evilOrigin)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			if w.code != http.StatusForbidden {
				b.Fatalf("status %d", w.code)
			}
		})
	}
}

// BenchmarkHandler: one event into each handler, against an empty
// function (the floor of any handler).
func BenchmarkHandler(b *testing.B) {
	s := newSetup(b, "retail-bank")
	me := middleware.Event{Connection: "retail-bank", Kind: middleware.KindOriginDenied, Origin: evilOrigin, Blocked: true}
	de := delivery.Event{Connection: "retail-bank", Kind: delivery.KindStored, Status: 204}
	var sink int
	noop := func(e middleware.Event) { sink += len(e.Kind) }
	b.Run("empty-func", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			noop(me)
		}
	})
	b.Run("MiddlewareEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.m.MiddlewareEvent(me)
		}
	})
	b.Run("MiddlewareEvent-unknown-connection", func(b *testing.B) {
		e := me
		e.Connection = "made-up"
		b.ReportAllocs()
		for b.Loop() {
			s.m.MiddlewareEvent(e)
		}
	})
	b.Run("DeliveryEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.m.DeliveryEvent(de)
		}
	})
	b.Run("Verified", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.m.Verified("retail-bank", 20*time.Microsecond, nil)
		}
	})
	b.Run("RateLimited", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			s.m.RateLimited(ctx, "retail-bank", "message")
		}
	})
	_ = sink
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }
