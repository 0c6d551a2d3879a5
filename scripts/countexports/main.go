// Command countexports counts the exported identifiers of the library's
// packages, by the rule issue 12 states: exported types, funcs, methods on
// exported types, consts, vars, exported struct fields and interface
// methods, in non-test files, not under internal/, examples/, cmd/ or
// scripts/. Usage: go run ./scripts/countexports [-v]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	verbose := flag.Bool("v", false, "list the identifiers")
	flag.Parse()
	counts := map[string][]string{}
	fset := token.NewFileSet()
	_ = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "internal", "examples", "cmd", "scripts", "testdata", "node_modules":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".") && path != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := filepath.Dir(path)
		add := func(name string) { counts[pkg] = append(counts[pkg], name) }
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv != nil {
					t := d.Recv.List[0].Type
					if s, ok := t.(*ast.StarExpr); ok {
						t = s.X
					}
					if ix, ok := t.(*ast.IndexExpr); ok {
						t = ix.X
					}
					if id, ok := t.(*ast.Ident); !ok || !id.IsExported() {
						continue
					}
					add("method " + t.(*ast.Ident).Name + "." + d.Name.Name)
					continue
				}
				add("func " + d.Name.Name)
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						add("type " + s.Name.Name)
						switch t := s.Type.(type) {
						case *ast.StructType:
							for _, fl := range t.Fields.List {
								for _, n := range fl.Names {
									if n.IsExported() {
										add("field " + s.Name.Name + "." + n.Name)
									}
								}
							}
						case *ast.InterfaceType:
							for _, m := range t.Methods.List {
								for _, n := range m.Names {
									if n.IsExported() {
										add("imethod " + s.Name.Name + "." + n.Name)
									}
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								add(d.Tok.String() + " " + n.Name)
							}
						}
					}
				}
			}
		}
		return nil
	})
	var pkgs []string
	total := 0
	for p := range counts {
		pkgs = append(pkgs, p)
		total += len(counts[p])
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		fmt.Printf("%-24s %4d\n", p, len(counts[p]))
		if *verbose {
			for _, n := range counts[p] {
				fmt.Println("   ", n)
			}
		}
	}
	fmt.Printf("%-24s %4d\n", "total", total)
}
