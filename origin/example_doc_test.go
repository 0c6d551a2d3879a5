package origin_test

import (
	"fmt"

	"github.com/msgsec/msgsec/origin"
)

// The U+ Bank entry in same-site mode (the package doc's and the README's
// example).
func Example() {
	run := func() error {
		m, err := origin.NewMatcher([]string{"https://www.uplusbank.com"}, origin.SameSite())
		if err != nil {
			return err // every bad entry, with its index
		}
		fmt.Println(m.Allows("https://account.uplusbank.com")) // true: same scheme and registrable domain
		fmt.Println(m.Allows("http://www.uplusbank.com"))      // false: scheme differs
		fmt.Println(m.Explain("https://www.uplus.com"))        // denied: its site is not the site of any entry
		return nil
	}
	if err := run(); err != nil {
		panic(err)
	}
	// Output:
	// true
	// false
	// "https://www.uplus.com" denied: no matching pattern: its site (https://uplus.com) is not the site of any entry
}
