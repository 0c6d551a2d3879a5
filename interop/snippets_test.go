package interop_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// snippets are interop/snippets, each with how to run it here. Node and
// Python run on the suite's libraries (so a missing one fails under
// MSGSEC_REQUIRE_INTEGRATION=1, as every library does); Java and C# run
// when a toolchain is on the machine and are skipped otherwise, always.
func (s *suite) snippets() []*snippet {
	dir := filepath.Join(s.root, "interop", "snippets")
	libVersion := func(name string) string {
		if l := s.libs[name]; l != nil && l.version != "" {
			return name + " " + l.version
		}
		return name
	}
	return []*snippet{
		{name: "node (jose)", version: libVersion("jose"), run: func(s *suite, tmp string) (*exec.Cmd, string, bool) {
			if l := s.libs["jose"]; l.missing != "" {
				return nil, l.missing, false
			}
			// Copied next to a node_modules link, as it would sit in a
			// bank's project, so `import 'jose'` resolves.
			src, err := os.ReadFile(filepath.Join(dir, "sign-jose.mjs"))
			if err != nil {
				return nil, err.Error(), false
			}
			if err := os.WriteFile(filepath.Join(tmp, "sign-jose.mjs"), src, 0o600); err != nil {
				return nil, err.Error(), false
			}
			if err := os.Symlink(filepath.Join(s.root, "interop", "node", "node_modules"), filepath.Join(tmp, "node_modules")); err != nil {
				return nil, err.Error(), false
			}
			return exec.Command("node", filepath.Join(tmp, "sign-jose.mjs")), "", false
		}},
		{name: "python (PyJWT)", version: libVersion("pyjwt"), run: func(s *suite, _ string) (*exec.Cmd, string, bool) {
			if l := s.libs["pyjwt"]; l.missing != "" {
				return nil, l.missing, false
			}
			return exec.Command(systemPython, filepath.Join(dir, "sign_pyjwt.py")), "", false
		}},
		{name: "java (javax.crypto.Mac)", version: toolVersion("javac", "-version"), run: func(s *suite, tmp string) (*exec.Cmd, string, bool) {
			if _, err := exec.LookPath("javac"); err != nil {
				return nil, "javac is not installed (scripts/install-services.sh installs default-jdk-headless)", true
			}
			if out, err := exec.Command("javac", "-d", tmp, filepath.Join(dir, "Sign.java")).CombinedOutput(); err != nil {
				return failing("javac Sign.java: " + err.Error() + ": " + string(out)), "", false
			}
			return exec.Command("java", "-cp", tmp, "Sign"), "", false
		}},
		{name: "c# (HMACSHA256)", version: csharpVersion(), run: func(s *suite, tmp string) (*exec.Cmd, string, bool) {
			if _, err := exec.LookPath("dotnet"); err == nil {
				// A file-based app (.NET 10 and later).
				return exec.Command("dotnet", "run", filepath.Join(dir, "Sign.cs")), "", false
			}
			if _, err := exec.LookPath("mcs"); err == nil {
				exe := filepath.Join(tmp, "Sign.exe")
				if out, err := exec.Command("mcs", "-out:"+exe, filepath.Join(dir, "Sign.cs")).CombinedOutput(); err != nil {
					return failing("mcs Sign.cs: " + err.Error() + ": " + string(out)), "", false
				}
				return exec.Command("mono", exe), "", false
			}
			return nil, "no C# toolchain here (dotnet, or mono's mcs): the C# snippet is not run", true
		}},
	}
}

// failing is a command that fails with msg on stderr, so a build failure
// is reported like a run failure.
func failing(msg string) *exec.Cmd {
	return exec.Command("sh", "-c", `printf '%s\n' "$0" >&2; exit 1`, msg)
}

func toolVersion(bin string, args ...string) string {
	if _, err := exec.LookPath(bin); err != nil {
		return "-"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return bin
	}
	line, _, _ := strings.Cut(string(bytes.TrimSpace(out)), "\n")
	return line
}

func csharpVersion() string {
	if _, err := exec.LookPath("dotnet"); err == nil {
		return "dotnet " + toolVersion("dotnet", "--version")
	}
	if _, err := exec.LookPath("mono"); err == nil {
		// "Mono JIT compiler version 6.8.0.105 (Debian ...)"
		f := strings.Fields(toolVersion("mono", "--version"))
		for i, w := range f {
			if w == "version" && i+1 < len(f) {
				return "mono " + f[i+1]
			}
		}
		return "mono"
	}
	return "-"
}

// The README's "Bank side" section shows each snippet in full, in a fenced
// block right after the line that names its file: what a bank developer
// copies is what the suite runs. This test needs no toolchain.
func TestSnippetsInREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(filepath.Join("snippets"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("interop/snippets has %d files; want Node, Python, Java and C#", len(files))
	}
	text := string(readme)
	for _, f := range files {
		name := "interop/snippets/" + f.Name()
		want, err := os.ReadFile(filepath.Join("snippets", f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := blockAfter(text, "`"+name+"`:")
		switch {
		case !ok:
			t.Errorf("README.md does not show %s (want a line ending in `%s`: and a fenced block after it)", name, name)
		case got != string(want):
			t.Errorf("README.md's copy of %s differs from the file; paste the file into the README again", name)
		}
	}
}

// blockAfter returns the content of the first fenced code block after the
// line that ends with marker.
func blockAfter(text, marker string) (string, bool) {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if !strings.HasSuffix(strings.TrimRight(l, "\n"), marker) {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j == len(lines) || !strings.HasPrefix(lines[j], "```") {
			return "", false
		}
		var b strings.Builder
		for k := j + 1; k < len(lines); k++ {
			if strings.HasPrefix(lines[k], "```") {
				return b.String(), true
			}
			b.WriteString(lines[k])
		}
	}
	return "", false
}
