package arch

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/deltashare/deltashare"

type pkg struct {
	ImportPath string
	Deps       []string
	Imports    []string
	Doc        string
	Name       string
}

// packages lists every package of the module with its (non-test) dependencies.
func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var ps []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		ps = append(ps, p)
	}
	require.NoError(t, cmd.Wait())
	require.NotEmpty(t, ps)
	return ps
}

func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

// rules: a package matching from may not depend (directly or not) on a package matching to.
var rules = []struct{ from, to, why string }{
	{"sharing/server", "sharing", "our server shares protocol, delta and predicate with the client but never imports the client"},
	{"sharing/protocol", "sharing", "wire types are below the client"},
	{"sharing/delta", "sharing", "the Delta rules import nothing of the client"},
	{"sharing/predicate", "sharing", "the filter language imports nothing of the client"},
	{"sharing", "sharing/reader", "the client is below the reader"},
	{"sharing/...", "export", "sharing never imports export"},
	{"sharing/...", "formats", "sharing never imports formats"},
	{"sharing/...", "tokenmgr", "sharing never imports the token manager"},
	{"formats", "sharing/...", "formats never imports sharing"},
	{"formats", "export", "formats are below export"},
	{"export", "tokenmgr", "export does not need credentials administration"},
	{"export/lake", "sharing/...", "the Delta log of a lake table is written from finished files; the lake package knows nothing of Delta Sharing (export maps the shared table to it)"},
	{"export/lake", "formats", "the lake package writes the log, not data files (export encodes them with formats)"},
	{"tokenmgr", "export", "the token manager does not export tables"},
	{"internal", "sharing/...", "internal helpers sit below every package"},
	{"internal", "export", "internal helpers sit below every package"},
	{"internal", "tokenmgr", "internal helpers sit below every package"},
}

// allowed are the exceptions to rules: a package matching from may depend on a package matching
// to although a rule forbids it.
var allowed = []struct{ from, to, why string }{
	{"export/lake", "sharing/delta", "the lake writer writes the Delta actions the readers of sharing read: one set of action types"},
}

// allowedDep reports whether an exception lets from depend on to.
func allowedDep(from, to string) bool {
	for _, a := range allowed {
		if matches(from, a.from) && matches(to, a.to) {
			return true
		}
	}
	return false
}

// exempt are packages the rules do not apply to: test support that starts our server or reads
// back what export wrote.
var exempt = map[string]bool{"internal/sharedtest": true, "internal/sharingtest": true, "internal/exporttest": true, "internal/arch": true}

// testSupport reports whether p is a test support package (internal/<name>test), which only
// tests may import.
func testSupport(p string) bool {
	return under(p, "internal") && strings.HasSuffix(p, "test")
}

// matches reports whether package p falls under a rule side: "x/..." is x and everything below
// it, "sharing" alone is the client package only, any other name is that package and below.
func matches(p, side string) bool {
	if pre, ok := strings.CutSuffix(side, "/..."); ok {
		return under(p, pre)
	}
	if side == "sharing" {
		return p == "sharing"
	}
	return under(p, side)
}

func TestImportDirections(t *testing.T) {
	ps := packages(t)
	for _, p := range ps {
		from := rel(p.ImportPath)
		if exempt[from] {
			continue
		}
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, module) {
				continue
			}
			to := rel(dep)
			if under(to, "cmd") {
				t.Errorf("%s imports %s: nothing imports cmd", from, to)
			}
			if testSupport(to) && !testSupport(from) {
				t.Errorf("%s depends on %s: only tests import test support packages", from, to)
			}
			for _, r := range rules {
				if matches(from, r.from) && matches(to, r.to) && !matches(from, r.to) && !allowedDep(from, to) {
					t.Errorf("%s depends on %s: %s", from, to, r.why)
				}
			}
		}
	}
}

func TestEveryPackageSaysItsJob(t *testing.T) {
	for _, p := range packages(t) {
		if p.Doc == "" {
			t.Errorf("%s has no package comment saying its one job", rel(p.ImportPath))
		}
	}
}
