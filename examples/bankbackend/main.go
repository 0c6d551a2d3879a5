// Command bankbackend runs msgsec's example bank website (package
// examples/internal/bank) against a running chat server.
//
//	export UPLUS_JWT_SECRET=$(go run ./cmd/msgsec secret new)
//	go run ./examples/chatserver &
//	go run ./examples/bankbackend
//	# open http://www.uplusbank.localhost:8081/
//
// Flags:
//
//	-addr        listen address (default 127.0.0.1:8081)
//	-chat-url    the chat server's root (default http://127.0.0.1:8080)
//	-connection  the chat connection ID (default retail-bank)
//	-issuer      the token issuer the policy expects (default uplusbank-backend)
//	-kid         the key ID the policy lists (default uplus-demo)
//
// UPLUS_JWT_SECRET is the HS256 secret shared with the chat server's
// policy, as `msgsec secret new` printed it: its text is the key. For everything in one command, run
// go run ./examples/demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/msgsec/msgsec/examples/internal/bank"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bankbackend:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	chatURL := flag.String("chat-url", "http://127.0.0.1:8080", "the chat server's root URL")
	connection := flag.String("connection", "retail-bank", "chat connection ID")
	issuer := flag.String("issuer", "uplusbank-backend", "token issuer")
	kid := flag.String("kid", "uplus-demo", "key ID")
	flag.Parse()

	v, ok := os.LookupEnv("UPLUS_JWT_SECRET")
	if !ok {
		return errors.New("set UPLUS_JWT_SECRET (the chat policy's secret; `go run ./cmd/msgsec secret new` makes one)")
	}
	// The string itself is the key, as in every JWT library (the policy's
	// default encoding, raw); surrounding whitespace is not part of it.
	key, err := secretdata.NewHMACKey(*kid, secretdata.HS256, []byte(strings.TrimSpace(v)))
	if err != nil {
		return err
	}
	newSigner := func(lifetime time.Duration) (*secretdata.Signer, error) {
		return secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: *issuer, Audience: *connection, Lifetime: lifetime})
	}
	browserSigner, err := newSigner(bank.TokenLifetime)
	if err != nil {
		return err
	}
	serverSigner, err := newSigner(0)
	if err != nil {
		return err
	}
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: *chatURL, Signer: serverSigner})
	if err != nil {
		return err
	}
	site, err := bank.New(bank.Config{ChatURL: *chatURL, Connection: *connection, Signer: browserSigner, Delivery: client})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: site, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	slog.Info("bank site listening", "addr", *addr, "chat", *chatURL)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
