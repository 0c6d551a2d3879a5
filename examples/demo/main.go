// Command demo runs msgsec's whole chat-widget story in one process:
//
//	go run ./examples/demo
//
// It starts four servers on loopback:
//
//   - the chat server (package examples/internal/chat) on
//     http://127.0.0.1:8080, with the built-in U+ Bank policy;
//   - the U+ Bank site (package examples/internal/bank) on
//     http://www.uplusbank.localhost:8081, the policy's allowed domain;
//   - an unlisted site on http://evil.localhost:8082 that embeds the
//     widget too, and is refused;
//   - the security console (package admin) on http://127.0.0.1:8090, over
//     an in-memory policy store seeded with the built-in policy. The chat
//     server's registry follows that store, so what the console changes
//     (domains, cookies, keys, enforce or report-only) applies at once.
//
// The policy's JWT secret is made at random at start-up, handed to the
// bank in-process and kept sealed in the policy store; it is never
// printed. The console's login token is random too, and printed (with the
// login URL) for this run. Browsers (Chromium, Chrome, Firefox) resolve
// *.localhost to loopback by themselves.
//
// Flags -chat-addr, -bank-addr, -other-addr and -admin-addr move the
// listeners (the bank and evil sites keep their host names, on the new
// ports).
package main

import (
	"context"
	"crypto/rand"
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

	"github.com/msgsec/msgsec/admin"
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
	fs.StringVar(&cfg.adminAddr, "admin-addr", "127.0.0.1:8090", "security console listen address (keep it on loopback)")
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
	chatAddr, bankAddr, otherAddr, adminAddr string
	logger                                   *slog.Logger
	// For the tests: onEvent hears the chat server's msgsec events,
	// wrapChat (if set) wraps its handler, and limits replace the chat
	// server's default flood limits (every tab of a browser test is one
	// client, its loopback address).
	onEvent  func(middleware.Event)
	wrapChat func(http.Handler) http.Handler
	limits   chat.Limits
}

// demo is the four running servers.
type demo struct {
	chatURL, bankURL, evilURL string
	consoleURL                string // with a trailing slash
	chat                      *chat.Server
	console                   *console
	policies                  *policy.MemoryBackend // the console's store's documents (tests)
	done                      chan struct{}         // closed when every server has stopped
}

// loginURL is the console's browser login (it holds the token).
func (d *demo) loginURL() string { return d.consoleURL + "login?token=" + d.console.token }

// start listens on the four addresses and serves until ctx ends.
func start(ctx context.Context, cfg config) (*demo, error) {
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, addr := range []string{cfg.chatAddr, cfg.bankAddr, cfg.otherAddr, cfg.adminAddr} {
		if addr == "" {
			closeAll()
			return nil, errNoAddr
		}
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
		// The console is served by its loopback address: its login cookie
		// is for that host alone.
		consoleURL: "http://" + lns[3].Addr().String() + "/",
		done:       make(chan struct{}),
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

// build makes the chat server, the bank site, the evil site and the
// console, sharing a random JWT secret that never leaves the process.
func (d *demo) build(ctx context.Context, cfg config) ([]http.Handler, error) {
	logger := cfg.logger
	// As `msgsec secret new` prints it: the policy's key is this text (its
	// default encoding, raw), and the bank signs with the same key through
	// SignerConfig below.
	secret := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	load := policy.LoadOptions{LookupEnv: func(name string) (string, bool) {
		return secret, name == "UPLUS_JWT_SECRET"
	}}

	// The policy store the console edits and the chat server follows. Its
	// sealing key is random too: the store lives as long as the process.
	sealingKey := make([]byte, 32)
	_, _ = rand.Read(sealingKey)
	d.policies = policy.NewMemoryBackend()
	policies, err := policy.NewStore(d.policies, policy.StoreOptions{SealingKey: sealingKey})
	if err != nil {
		return nil, err
	}
	if err := seedStore(ctx, policies, load.LookupEnv); err != nil {
		return nil, err
	}
	reg, err := policy.NewRegistryFromSource(ctx, policies, policy.RegistryOptions{
		Logf: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return nil, err
	}
	reg.Follow(ctx, storeResync) // applies each change within milliseconds
	journal := admin.NewMemoryJournal()
	// The console's roll-out list: origins a report-only connection would
	// have refused, counted from the middleware's events.
	recorder := admin.NewRecorder(journal, reg)
	go recorder.Run(ctx, refusalFlush)
	con, err := newConsole(policies, journal, cfg)
	if err != nil {
		return nil, err
	}
	d.console = con

	store, err := delivery.NewMemoryStore(secretdata.GenerateSecret()[:delivery.KeySize], delivery.MemoryStoreConfig{})
	if err != nil {
		return nil, err
	}
	onEvent := recorder.Event
	if cfg.onEvent != nil {
		onEvent = func(e middleware.Event) {
			recorder.Event(e)
			cfg.onEvent(e)
		}
	}
	chatSrv, err := chat.New(chat.Config{Policies: reg, Store: store, SelfOrigin: d.chatURL, Logger: logger,
		OnEvent: onEvent, Limits: cfg.limits})
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
	return []http.Handler{chatSrv, bankSite, evilSite(d.chatURL), con}, nil
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
  security console           %[4]s
  console login (this run)   %[5]s

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
  5. Open the console login URL, then the U+ Bank connection's Security tab. Add the
     evil site, %[2]s, under "New domain" and reload it: the widget now opens
     there, without a restart; remove it and it is refused again. "Create secret" makes
     an HMAC key (its secret shown once). "Switch to report-only" stops refusing unlisted
     sites on the chat API and lists, under "Refused origins", what enforce would refuse.

The JWT secret was made at random for this run and is not shown. The console's login
token is %[6]s (for scripts: MSGSEC_ADMIN_TOKEN=<token> msgsec admin list --url %[4]s).
Ctrl-C stops the demo.
`, d.bankURL, d.evilURL, d.chatURL, d.consoleURL, d.loginURL(), d.console.token)
}
