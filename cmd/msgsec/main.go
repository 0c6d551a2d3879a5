package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/msgsec/msgsec/internal/redisurl"
)

// Exit codes, the same for every command.
const (
	exitOK    = 0 // success: valid, allowed, no problems
	exitFail  = 1 // the check ran and failed: policy problems, origin denied, token invalid
	exitUsage = 2 // the command could not run: bad flags, unreadable input, unknown connection
)

const exitCodesHelp = `Exit codes:
  0  ok
  1  the check failed: policy problems, an origin denied, a token invalid
  2  usage or input error: bad flags, a missing or unreadable file, a policy
     that does not load, an unknown connection, a missing secret variable
`

func main() {
	redisurl.Quiet() // msgsec's own errors say what failed, once
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// run is the whole command line, minus the process: tests call it directly.
// env looks up environment variables (os.LookupEnv in main).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	return runContext(context.Background(), args, stdin, stdout, stderr, env)
}

func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env, now: time.Now}
	return c.dispatch(args)
}

// cli carries a run's inputs and outputs; nothing is global.
type cli struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    func(string) (string, bool)
	now    func() time.Time
}

// command is one leaf of the command tree ("policy check").
type command struct {
	name    string // full name without "msgsec"
	args    string // synopsis after the name
	summary string // one line, for the command list
	help    string // what it does, shown by --help
	run     func(c *cli, cmd *command, args []string) int
}

// commands lists every command, in the order msgsec --help shows them.
func commands() []*command {
	return append([]*command{
		secretNewCommand(),
		keysNewCommand(),
		policyCheckCommand(),
		policyExampleCommand(),
		policyPushCommand(),
		policyPullCommand(),
		originCommand(),
		signCommand(),
		verifyCommand(),
		versionCommand(),
	}, adminCommands()...)
}

const topHelp = `msgsec: operate msgsec chat-widget security policies.

Usage:
  msgsec <command> [flags] [arguments]

Commands:
%s
Run "msgsec <command> --help" for a command's flags.

%s`

func (c *cli) dispatch(args []string) int {
	if len(args) == 0 {
		c.topUsage(c.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return c.dispatch(append(args[1:], "--help"))
		}
		c.topUsage(c.stdout)
		return exitOK
	}
	all := commands()
	// Commands have one or two words; take the longest that matches.
	for _, words := range []int{2, 1} {
		if len(args) < words {
			continue
		}
		name := strings.Join(args[:words], " ")
		for _, cmd := range all {
			if cmd.name == name {
				return cmd.run(c, cmd, args[words:])
			}
		}
	}
	var group []string
	for _, cmd := range all {
		if first, _, _ := strings.Cut(cmd.name, " "); first == args[0] {
			group = append(group, cmd.name)
		}
	}
	if len(group) > 0 {
		if len(args) > 1 && (args[1] == "-h" || args[1] == "--help" || args[1] == "-help") {
			c.groupUsage(c.stdout, group)
			return exitOK
		}
		what := "a subcommand"
		if len(args) > 1 {
			what = fmt.Sprintf("a known subcommand, not %q", args[1])
		}
		return c.failf(exitUsage, args[0], "needs %s: %s", what, strings.Join(group, ", "))
	}
	return c.failf(exitUsage, "", "unknown command %q (run \"msgsec --help\")", args[0])
}

func (c *cli) topUsage(w io.Writer) {
	var list strings.Builder
	for _, cmd := range commands() {
		fmt.Fprintf(&list, "  %-20s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, topHelp, list.String(), exitCodesHelp)
}

func (c *cli) groupUsage(w io.Writer, names []string) {
	fmt.Fprintln(w, "Commands:")
	for _, cmd := range commands() {
		for _, n := range names {
			if cmd.name == n {
				fmt.Fprintf(w, "  msgsec %-20s %s\n", cmd.name, cmd.summary)
			}
		}
	}
}

// newFlags returns a flag set that reports errors to the caller, not to
// stderr, so every error comes out as one line.
func newFlags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet("msgsec "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and positional arguments in any order (so
// "policy check FILE --strict" works; "--" ends the flags). It returns
// the positional arguments, or ok=false with the exit code when the run is
// over: after --help (exit 0) or a bad flag (exit 2).
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.commandUsage(c.stdout, cmd, fs)
			return nil, exitOK, false
		}
		if err != nil {
			return nil, c.failf(exitUsage, cmd.name, "%v (run \"msgsec %s --help\")", err, cmd.name), false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, true
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), exitOK, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *cli) commandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: msgsec %s %s\n\n%s\n", cmd.name, cmd.args, strings.TrimSpace(cmd.help))
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fmt.Fprintf(w, "\n%s", exitCodesHelp)
}

// failf writes a one-line error to stderr and returns code. Messages name
// files, fields and reasons, never secrets or token contents; control
// characters (from a hostile argument echoed back) are escaped so that one
// error is always one line.
func (c *cli) failf(code int, cmdName, format string, a ...any) int {
	prefix := "msgsec: "
	if cmdName != "" {
		prefix = "msgsec " + cmdName + ": "
	}
	fmt.Fprintln(c.stderr, prefix+oneLine(fmt.Sprintf(format, a...)))
	return code
}

// oneLine replaces line breaks with "; " and other control characters with
// their escaped form.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("; ")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// exactArgs checks the number of positional arguments.
func (c *cli) exactArgs(cmd *command, pos []string, want int, what string) (int, bool) {
	if len(pos) == want {
		return exitOK, true
	}
	if len(pos) < want {
		return c.failf(exitUsage, cmd.name, "missing %s (run \"msgsec %s --help\")", what, cmd.name), false
	}
	// The extra argument is not echoed: it might be a token or a secret
	// pasted in the wrong place.
	return c.failf(exitUsage, cmd.name, "too many arguments: want %d, got %d (run \"msgsec %s --help\")", want, len(pos), cmd.name), false
}
