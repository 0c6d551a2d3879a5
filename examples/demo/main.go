// Command demo runs msgsec's whole chat-widget story in one process:
//
//	go run ./examples/demo
//
// It starts three servers on loopback:
//
//   - the chat server (package examples/internal/chat) on
//     http://127.0.0.1:8080, with the built-in U+ Bank policy;
//   - the U+ Bank site (package examples/internal/bank) on
//     http://www.uplusbank.localhost:8081, the policy's allowed domain;
//   - an unlisted site on http://evil.localhost:8082 that embeds the
//     widget too, and is refused.
//
// The policy's JWT secret is made at random at start-up and handed to the
// chat server and the bank in-process; it is never printed. Browsers
// (Chromium, Chrome, Firefox) resolve *.localhost to loopback by themselves.
//
// Flags -chat-addr, -bank-addr and -other-addr move the listeners (the
// bank and evil sites keep their host names, on the new ports).
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/msgsec/msgsec/examples/internal/bank"
	"github.com/msgsec/msgsec/examples/internal/chat"
	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// Host names of the two websites (any port). Chromium resolves
// *.localhost to loopback without DNS.
const (
	bankHost   = "www.uplusbank.localhost"
	evilHost   = "evil.localhost"
	connection = "retail-bank"
)

func main() {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	cfg := config{}
	fs.StringVar(&cfg.chatAddr, "chat-addr", "127.0.0.1:8080", "chat server listen address")
	fs.StringVar(&cfg.bankAddr, "bank-addr", "127.0.0.1:8081", "U+ Bank site listen address (served as http://"+bankHost+":<port>)")
	fs.StringVar(&cfg.otherAddr, "other-addr", "127.0.0.1:8082", "unlisted site listen address (served as http://"+evilHost+":<port>)")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	d, err := start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	d.printWelcome(os.Stdout)
	<-ctx.Done()
	d.wait()
}

type config struct {
	chatAddr, bankAddr, otherAddr string
	logger                        *slog.Logger
	// For the tests: onEvent hears the chat server's msgsec events,
	// wrapChat (if set) wraps its handler, and limits replace the chat
	// server's default flood limits (every tab of a browser test is one
	// client, its loopback address).
	onEvent  func(middleware.Event)
	wrapChat func(http.Handler) http.Handler
	limits   chat.Limits
}

// demo is the three running servers.
type demo struct {
	chatURL, bankURL, evilURL string
	chat                      *chat.Server
	done                      chan struct{} // closed when every server has stopped
}

// start listens on the three addresses and serves until ctx ends.
func start(ctx context.Context, cfg config) (*demo, error) {
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, addr := range []string{cfg.chatAddr, cfg.bankAddr, cfg.otherAddr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return nil, err
		}
		lns = append(lns, ln)
	}
	d := &demo{
		chatURL: "http://" + lns[0].Addr().String(),
		bankURL: "http://" + bankHost + ":" + port(lns[1]),
		evilURL: "http://" + evilHost + ":" + port(lns[2]),
		done:    make(chan struct{}),
	}
	handlers, err := d.build(ctx, cfg)
	if err != nil {
		closeAll()
		return nil, err
	}
	if cfg.wrapChat != nil {
		handlers[0] = cfg.wrapChat(handlers[0])
	}
	stopped := make(chan struct{}, len(lns))
	for i, ln := range lns {
		go func() {
			var onShutdown func()
			if i == 0 {
				onShutdown = d.chat.CloseSockets
			}
			serve(ctx, ln, handlers[i], onShutdown)
			stopped <- struct{}{}
		}()
	}
	go func() {
		for range lns {
			<-stopped
		}
		close(d.done)
	}()
	return d, nil
}

// build makes the chat server, the bank site and the evil site, sharing a
// random JWT secret that never leaves the process.
func (d *demo) build(ctx context.Context, cfg config) ([]http.Handler, error) {
	logger := cfg.logger
	// As `msgsec secret new` prints it: the policy's key is this text (its
	// default encoding, raw), and the bank signs with the same key through
	// SignerConfig below.
	secret := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	load := policy.LoadOptions{LookupEnv: func(name string) (string, bool) {
		return secret, name == "UPLUS_JWT_SECRET"
	}}
	reg, err := policy.NewRegistryFromBytes(ctx, chat.DefaultPolicy(), policy.RegistryOptions{Load: load})
	if err != nil {
		return nil, err
	}
	store, err := delivery.NewMemoryStore(secretdata.GenerateSecret()[:delivery.KeySize], delivery.MemoryStoreConfig{})
	if err != nil {
		return nil, err
	}
	chatSrv, err := chat.New(chat.Config{Policies: reg, Store: store, SelfOrigin: d.chatURL, Logger: logger,
		OnEvent: cfg.onEvent, Limits: cfg.limits})
	if err != nil {
		return nil, err
	}
	d.chat = chatSrv

	// The bank signs with the policy's own HMAC key (the same secret).
	file, err := policy.Parse(chat.DefaultPolicy(), load)
	if err != nil {
		return nil, err
	}
	var signerCfg secretdata.SignerConfig
	for i := range file.Connections {
		if file.Connections[i].ID == connection {
			signerCfg, err = file.Connections[i].SignerConfig("", time.Now())
		}
	}
	if err != nil || signerCfg.Key.ID() == "" {
		return nil, fmt.Errorf("built-in policy has no %s key to sign with: %v", connection, err)
	}
	newSigner := func(lifetime time.Duration) (*secretdata.Signer, error) {
		cfg := signerCfg
		cfg.Lifetime = lifetime
		return secretdata.NewSigner(cfg)
	}
	browserSigner, err := newSigner(bank.TokenLifetime)
	if err != nil {
		return nil, err
	}
	serverSigner, err := newSigner(0)
	if err != nil {
		return nil, err
	}
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: d.chatURL, Signer: serverSigner})
	if err != nil {
		return nil, err
	}
	bankSite, err := bank.New(bank.Config{ChatURL: d.chatURL, Connection: connection, Signer: browserSigner, Delivery: client, Logger: logger})
	if err != nil {
		return nil, err
	}
	return []http.Handler{chatSrv, bankSite, evilSite(d.chatURL)}, nil
}

func port(ln net.Listener) string {
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// serve runs one server until ctx ends. Request contexts end with ctx; the
// chat server's WebSockets (hijacked, so Shutdown does not see them) are
// closed by onShutdown (the chat server's CloseSockets).
func serve(ctx context.Context, ln net.Listener, h http.Handler, onShutdown func()) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if srv.Shutdown(shutdown) != nil {
			srv.Close()
		}
	}()
	_ = srv.Serve(ln)
	if onShutdown != nil {
		// Serve returns as Shutdown starts, and Shutdown does not wait for
		// what it runs at shutdown: wait until the sockets have closed.
		onShutdown()
	}
}

// wait blocks until every server has stopped.
func (d *demo) wait() { <-d.done }

func (d *demo) printWelcome(w io.Writer) {
	fmt.Fprintf(w, `msgsec demo: U+ Bank's chat widget, secured.

  U+ Bank (allowed domain)   %[1]s/
  evil site (not allowed)    %[2]s/
  chat agent view            %[3]s/agent

Open them in Chromium, Chrome or Firefox (they resolve *.localhost to this machine):

  1. On U+ Bank the chat widget opens bottom right: send a message, the echo agent answers
     (over a WebSocket whose handshake msgsec checked: Origin must be an allowed domain).
  2. In the agent view, the session shows the cookies page_viewed and cart_contents,
     never the bank's private session_id.
  3. Sign in on U+ Bank (any name): the new chat shows the verified customer_id and
     authentication_status, delivered twice: by the widget (browser pass-through token)
     and by the bank's backend (server to server).
  4. On the evil site the widget does not appear: the chat API refuses its Origin (CORS),
     the widget page refuses to be framed there (CSP frame-ancestors), and a chat's
     WebSocket refuses its handshake (403: cross-site WebSocket hijacking). See the
     browser console.

The JWT secret was made at random for this run and is not shown. Ctrl-C stops the demo.
`, d.bankURL, d.evilURL, d.chatURL)
}
