// Package interop is msgsec's cross-language interoperability suite. It has
// no API: its test (interop_test.go) builds the msgsec command and checks
// CustomerSecretData tokens against real JWT libraries that bank backends
// and chat servers use — npm jose and jsonwebtoken (node/, installed with
// npm ci from the committed package-lock.json) and Debian's PyJWT,
// python-jose, jwcrypto and Authlib (python/, run with /usr/bin/python3) —
// in both directions, and runs the bank-side snippets in snippets/.
//
// The outcome of every case, the library versions and each known gap or
// required refusal are in INTEROP.md at the module root.
//
//	./scripts/install-services.sh      # node, npm, the Python libraries, a JDK; npm ci
//	MSGSEC_REQUIRE_INTEGRATION=1 go test ./interop/ -v -run TestInterop
package interop
