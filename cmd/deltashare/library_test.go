package main

// Rules the library packages keep for the command line's sake: their advice names options and
// operations by Go names that hintNames words as flags and commands, and they read no
// environment (configuration comes in through options; the CLI passes os.LookupEnv).

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// libraryFile is a parsed non-test Go file of a library package (not a command, not test
// support).
type libraryFile struct {
	rel  string // slash-separated path from the module root
	fset *token.FileSet
	file *ast.File
}

// libraryFiles parses the library packages' Go files: everything but cmd/, package main
// (generators), _test.go files, testdata and internal/sharedtest (test support).
func libraryFiles(t *testing.T) []libraryFile {
	t.Helper()
	root := repoRoot(t)
	var files []libraryFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel != "." && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")),
				d.Name() == "testdata", d.Name() == "vendor", rel == "cmd", rel == "internal/sharedtest":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name != "main" {
			files = append(files, libraryFile{rel: rel, fset: fset, file: f})
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// placeholderRE finds the names of advice ("use {Overwrite}", "run {tokenmgr.Activate}"): an
// exported Go name, qualified or not. Lower-case braces ({share} in a route pattern) are not
// advice.
var placeholderRE = regexp.MustCompile(`\{((?:[a-z][a-z0-9]*\.)?[A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*)\}`)

// TestHintNames: every name that library advice uses has a command line name, so the CLI never
// shows "the Overwrite option" where it has --overwrite; and hintNames names nothing unused.
func TestHintNames(t *testing.T) {
	used := map[string][]string{} // name -> where
	for _, lf := range libraryFiles(t) {
		ast.Inspect(lf.file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
				pos := lf.fset.Position(lit.Pos())
				used[m[1]] = append(used[m[1]], lf.rel+":"+strconv.Itoa(pos.Line))
			}
			return true
		})
	}
	require.NotEmpty(t, used, "no advice found: is the scan broken?")
	for _, name := range []string{"Overwrite", "Where", "Config.AddTable", "tokenmgr.Activate"} {
		assert.Contains(t, used, name, "the scan finds known advice")
	}
	var missing []string
	for name, where := range used {
		if _, ok := hintNames[name]; !ok {
			missing = append(missing, "{"+name+"} at "+strings.Join(where, ", "))
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "library advice names these without a command line name: add them to hintNames (hints.go)")
	var unused []string
	for name := range hintNames {
		if _, ok := used[name]; !ok {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	assert.Empty(t, unused, "hintNames names what no library advice uses: remove them")
}

// envFuncs are the functions that read the process environment.
var envFuncs = map[string][]string{
	"os":      {"Getenv", "LookupEnv", "Environ", "ExpandEnv"},
	"syscall": {"Getenv", "Environ"},
}

// envPending are library directories that still read the environment: only the fake Databricks
// workspace, test support that isolates a test from the host's DATABRICKS_* variables.
var envPending = []string{"tokenmgr/databricks/fakeworkspace/"}

// TestLibrariesReadNoEnvironment: library packages take their configuration through options;
// only commands, tests and test support read the environment.
func TestLibrariesReadNoEnvironment(t *testing.T) {
	var reads []string
	pending := map[string]int{}
	for _, lf := range libraryFiles(t) {
		local := map[string]string{} // local import name -> "os" or "syscall"
		for _, imp := range lf.file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if _, ok := envFuncs[p]; !ok {
				continue
			}
			name := p
			if imp.Name != nil {
				name = imp.Name.Name
			}
			local[name] = p
		}
		if len(local) == 0 {
			continue
		}
		ast.Inspect(lf.file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			pkg, ok := local[x.Name]
			if !ok {
				return true
			}
			for _, fn := range envFuncs[pkg] {
				if sel.Sel.Name != fn {
					continue
				}
				where := lf.rel + ":" + strconv.Itoa(lf.fset.Position(sel.Pos()).Line) + ": " + pkg + "." + fn
				for _, dir := range envPending {
					if strings.HasPrefix(lf.rel, dir) {
						pending[dir]++
						return true
					}
				}
				reads = append(reads, where)
			}
			return true
		})
	}
	assert.Empty(t, reads, "library packages read the environment: take it through an option (a LookupEnv func) that the CLI sets to os.LookupEnv")
	for _, dir := range envPending {
		assert.NotZero(t, pending[dir], "%s reads no environment any more: remove it from envPending", dir)
	}
}
