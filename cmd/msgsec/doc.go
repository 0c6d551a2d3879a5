// Command msgsec is the operator's tool for msgsec chat-widget security
// policies: it makes secrets and keys, checks a policy file before it
// ships, explains why an origin is allowed or refused, and mints and
// inspects CustomerSecretData tokens while a bank backend is wired up —
// with the same code the chat server runs, so its answers are the server's.
//
// # Install
//
//	go install github.com/msgsec/msgsec/cmd/msgsec@latest
//
// # Usage
//
//	msgsec secret new [--jwe] [--out FILE]
//	msgsec keys new --alg ES256|EdDSA|Ed25519|RS256|PS256 [--kid ID] [--out-private FILE] [--out-public FILE] [--json]
//	msgsec policy check [--strict] [--json] [--no-fetch] FILE
//	msgsec policy check --redis URL [--prefix P] [--sealing-key-env NAME | --sealing-key-file FILE]
//	msgsec policy example
//	msgsec policy push --redis URL [--prefix P] [--sealing-key-env NAME | --sealing-key-file FILE] FILE
//	msgsec policy pull --redis URL [--prefix P]
//	msgsec origin --policy FILE --connection ID [--json] ORIGIN...
//	msgsec sign --policy FILE --connection ID --data JSON|@FILE|- [--session SID] [--subject SUB] [--lifetime 5m] [--kid ID]
//	            [--private-key FILE [--alg RS256|PS256|ES256|EdDSA|Ed25519]] [--encrypt]
//	msgsec verify --policy FILE --connection ID [--session SID] [--show-secret-data] [--json] TOKEN|-
//	msgsec version
//
// Every command takes --help. Flags and arguments may come in any order;
// "--" ends the flags.
//
// Exit codes:
//
//	0  ok
//	1  the check failed: policy problems (policy check), an origin denied
//	   (origin), a token invalid (verify)
//	2  usage or input error: bad flags, a missing or unreadable file, a
//	   policy that does not load, an unknown connection, a missing secret
//	   environment variable (sign, verify)
//
// policy check reports everything wrong inside the file — YAML syntax,
// unknown fields, invalid values, secret references that do not resolve —
// as findings with exit 1; only a file it cannot read is exit 2.
//
// Secrets: the string secret new prints is the HMAC secret, used as its
// text bytes on both sides (a policy's default encoding, raw), as every JWT
// library takes a string secret. policy check notes, per key, where its
// secret comes from and its encoding; a refused HMAC signature says how
// the policy reads the secret. The secrets a policy references are never
// printed, by any command or in any error. verify masks the subject and every
// customer_secret_data value ("***") unless --show-secret-data. Errors name
// files, fields and reasons, never token contents or data. The only secrets
// ever written are the ones a command was asked to make (secret new,
// keys new) and the token sign was asked to mint.
//
// origin needs no secrets: an unset secret variable is replaced, for that
// command only, by a placeholder (a note on stderr names it), and only
// allowed_domains and domain_matching are compiled.
//
// Example session, with the policy in examples/policies/uplusbank.yaml:
//
//	$ export UPLUS_JWT_SECRET="$(msgsec secret new)"
//	$ msgsec policy check examples/policies/uplusbank.yaml
//	examples/policies/uplusbank.yaml: note: connections[0].keys[0]: HMAC key uplus-2026-11 (HS256), secret from env:UPLUS_JWT_SECRET: the text itself is the key ...
//	examples/policies/uplusbank.yaml:48: warning: connections[0].token.secret_data: anonymous chats are admitted: ... [secret-data-optional]
//	examples/policies/uplusbank.yaml: ok: 1 connection (retail-bank), 0 errors, 1 warning
//	$ msgsec origin --policy examples/policies/uplusbank.yaml --connection retail-bank \
//	      https://account.uplusbank.com https://www.uplus.com
//	"https://account.uplusbank.com" allowed by https://www.uplusbank.com (same site (same scheme and registrable domain))
//	"https://www.uplus.com" denied: no matching pattern: its site (https://uplus.com) is not the site of any entry
//	$ msgsec sign --policy examples/policies/uplusbank.yaml --connection retail-bank \
//	      --data '{"customer_id":"C-1001"}' |
//	  msgsec verify --policy examples/policies/uplusbank.yaml --connection retail-bank -
//	valid
//	  ...
package main
