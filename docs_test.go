package msgsec_test

// The Go snippets in README.md and in the package docs are code users
// copy. Each must stand, line for line, in an Example function (which go
// test compiles and runs, checking its output), so a snippet that does not
// compile, or does something else than it says, fails here.

import (
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type snippet struct {
	where string // file and line
	code  string
}

// normalise drops blank lines and each line's indentation, so a snippet
// matches inside a closure or a nested block.
func normalise(code string) string {
	var out []string
	for l := range strings.SplitSeq(code, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// examples returns the normalised body of every Example function in the
// module's test files.
func examples(t *testing.T) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Example") {
				continue
			}
			body := src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset]
			out = append(out, "\n"+normalise(string(body))+"\n")
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

var goFence = regexp.MustCompile("(?s)```go\n(.*?)```")

func readmeSnippets(t *testing.T) []snippet {
	t.Helper()
	src, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var out []snippet
	for _, m := range goFence.FindAllSubmatchIndex(src, -1) {
		line := 1 + strings.Count(string(src[:m[0]]), "\n")
		out = append(out, snippet{where: "README.md:" + itoa(line), code: string(src[m[2]:m[3]])})
	}
	return out
}

// looksLikeGo: a code block that parses as Go statements, or that has a
// short variable declaration (a Go snippet with a typo or an ellipsis
// must not pass as prose).
func looksLikeGo(code string) bool {
	if strings.Contains(code, ":=") {
		return true
	}
	_, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc _() {\n"+code+"\n}\n", 0)
	return err == nil
}

func docSnippets(t *testing.T) []snippet {
	t.Helper()
	var out []snippet
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.Name() != "doc.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil || f.Doc == nil {
			return err
		}
		var p comment.Parser
		for _, b := range p.Parse(f.Doc.Text()).Content {
			if c, ok := b.(*comment.Code); ok && looksLikeGo(c.Text) {
				out = append(out, snippet{where: path, code: c.Text})
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func itoa(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestDocSnippetsAreRunExamples(t *testing.T) {
	ex := examples(t)
	snips := append(readmeSnippets(t), docSnippets(t)...)
	require.GreaterOrEqual(t, len(snips), 3, "so few Go snippets: is the extraction broken?")
	for _, s := range snips {
		want := "\n" + normalise(s.code) + "\n"
		found := false
		for _, e := range ex {
			if strings.Contains(e, want) {
				found = true
				break
			}
		}
		assert.Truef(t, found, "%s: this Go snippet is not, line for line, in any Example function:\n%s", s.where, s.code)
	}
}

// The checker itself: a snippet that is in an Example passes, one that
// differs by a single token does not.
func TestSnippetCheckerCatchesDrift(t *testing.T) {
	ex := []string{"\n" + normalise("a := 1\n\tb := a + 1\n_ = b") + "\n"}
	in := func(code string) bool { return strings.Contains(ex[0], "\n"+normalise(code)+"\n") }
	assert.True(t, in("  a := 1\n\n b := a + 1"), "an indented copy must match")
	assert.False(t, in("a := 1\nb := a + 2"), "a changed token must not match")
	assert.False(t, in("a := 1\n_ = b"), "lines must be contiguous")
	assert.True(t, looksLikeGo("if err != nil { … }\nx := 1"), "looksLikeGo: Go")
	assert.False(t, looksLikeGo("GET /x   loader"), "looksLikeGo: not Go")
}
