package cfgerr_test

import (
	"fmt"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/origin"
)

func ExampleAll() {
	err := cfgerr.Join("example: invalid configuration", []*cfgerr.Error{
		{Field: "allowed_domains[0]", Value: "https://*.com", Reason: "wildcard over a public suffix"},
		{Field: "keys[0].secret", Value: cfgerr.Redacted, Reason: "shorter than 32 bytes"},
	})
	for e := range cfgerr.All(err) {
		fmt.Println(e.Field, "|", e.Value, "|", e.Reason)
	}
	// Output:
	// allowed_domains[0] | https://*.com | wildcard over a public suffix
	// keys[0].secret | [redacted] | shorter than 32 bytes
}

func ExampleJoin() {
	fmt.Println(cfgerr.Join("example", nil))
	fmt.Println(cfgerr.Join("example", []*cfgerr.Error{{Field: "Timeout", Value: "-1s", Reason: "negative"}}))
	// Output:
	// <nil>
	// example: Timeout: "-1s": negative
}

func ExampleError_Error() {
	e := &cfgerr.Error{File: "policies.yaml", Line: 9, Field: "connections[0].mode", Value: "block", Reason: `must be "enforce" or "report-only"`}
	fmt.Println(e)
	// Output: policies.yaml:9: connections[0].mode: "block": must be "enforce" or "report-only"
}

// The package doc's example: every bad entry of a list, one by one.
func Example() {
	_, err := origin.NewMatcher([]string{"https://*.com", "null"})
	for e := range cfgerr.All(err) {
		fmt.Println(e.Field, e.Value, e.Reason)
	}
	// Output:
	// [0] https://*.com a wildcard directly above a public suffix (com) would admit unrelated sites
	// [1] null "null" is the opaque origin of sandboxed frames and local files; it can never be allowed
}
