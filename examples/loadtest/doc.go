// Command loadtest measures msgsec's example chat server under load and
// faults, on this machine only, bounded in requests and time.
//
//	go run ./examples/loadtest                      # the documented run
//	go run ./examples/loadtest -h                   # flags
//	go run ./examples/loadtest -redis redis://127.0.0.1:6379/0
//	go run ./examples/loadtest -redis redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
//	go run ./examples/loadtest -redis redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster
//
// It builds examples/chatserver, starts it on a free loopback port with a
// policy file of its own, and then:
//
//  1. load: -clients concurrent clients send -requests requests, a fixed
//     mix of CORS preflights and authenticated chat messages (each with a
//     freshly signed CustomerSecretData token) from allowed and disallowed
//     origins, plus replayed tokens, while the policy file is rewritten and
//     reloaded (SIGHUP) -reloads times, spread over the run. Every answer
//     is judged: an allowed origin refused, a disallowed one let through or
//     a replayed token accepted is a WRONG DECISION; a 5xx or a transport
//     error is an error. It reports p50/p99 latency and throughput, and
//     checks that the last reload took effect.
//  2. oversize: -oversize requests each with a 2 MiB header, a 1 MiB body
//     and a 48 KiB token; each must be refused (431, 413, 401) quickly,
//     and the server's resident memory is read before and after (Linux).
//  3. baseline: the same load against the chat server started with
//     -no-middleware (no msgsec checks), for the throughput overhead.
//
// It exits non-zero unless errors and wrong decisions are 0, every
// oversized request is refused, and the overhead is at most -max-overhead.
// It never contacts anything but 127.0.0.1 and stops by itself: at the end
// of the requests or at -timeout.
package main
