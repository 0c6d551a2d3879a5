package msgsec_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// jwx/v2 is deprecated upstream; msgsec keeps it in one file so that a move
// to v3 is one change (README, "Dependencies"). Test files of package
// secretdata may use it to build fixtures.
func TestJWXConfinedToOneFile(t *testing.T) {
	const allowed = "secretdata/jwks.go"
	var found []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, "github.com/lestrrat-go/jwx") {
				continue
			}
			slash := filepath.ToSlash(path)
			if slash == allowed || (strings.HasPrefix(slash, "secretdata/") && !strings.Contains(strings.TrimPrefix(slash, "secretdata/"), "/") && strings.HasSuffix(slash, "_test.go")) {
				continue
			}
			found = append(found, slash)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("jwx is imported outside %s: %v; go through package secretdata instead", allowed, found)
	}
}
