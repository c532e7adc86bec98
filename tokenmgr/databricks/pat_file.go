package databricks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/databricks/databricks-sdk-go/config"

	"github.com/deltashare/deltashare/internal/atomicfile"
)

// This file holds the two places a rotated token can live: a profile of a Databricks config
// file (.databrickscfg, INI) and a plain token file. Both are rewritten atomically (temporary
// file next to the original, fsync, rename) with the original mode, and only the token bytes
// change: comments, other profiles, ordering and line endings are kept.

// beforeRenameHook, when set (tests), runs after the temporary file is written and before it
// replaces path; an error aborts the write.
var beforeRenameHook func(path string) error

// rotationTarget is where the token being rotated lives.
type rotationTarget interface {
	// String names the target for messages ("profile X in /path", "token file /path").
	String() string
	// load reads the current token and, if the target records it, the workspace host.
	load() (token, host string, err error)
	// write replaces the token, failing if the file changed since load.
	write(token string) error
	// readBack reads the token as a Databricks client would.
	readBack() (string, error)
	// restore puts the original bytes back.
	restore() error
	// alsoHeldBy names other places in the same file that hold token (they would break when
	// it is revoked).
	alsoHeldBy(token string) []string
}

// fileState is the original content and mode of a target file.
type fileState struct {
	path string
	orig []byte
	mode os.FileMode
}

func (s *fileState) read() error {
	info, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", s.path)
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	s.orig, s.mode = data, info.Mode().Perm()
	return nil
}

// replace writes data if the file still holds the original bytes.
func (s *fileState) replace(data []byte) error {
	cur, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, s.orig) {
		return fmt.Errorf("%s changed while the token was being rotated; nothing was written", s.path)
	}
	return s.put(data)
}

func (s *fileState) restore() error { return s.put(s.orig) }

// put replaces the file (following a symlink) with data, keeping its original mode. A
// directory sync that fails after the rename is not an error here: the new bytes are in place,
// and the rotation reads them back and verifies them next.
func (s *fileState) put(data []byte) error {
	err := atomicfile.Write(s.path, data, atomicfile.Options{Perm: s.mode, Fault: func(step, path string) error {
		if step == "rename" && beforeRenameHook != nil {
			return beforeRenameHook(path)
		}
		return nil
	}})
	if errors.Is(err, atomicfile.ErrNotDurable) {
		return nil
	}
	return err
}

// ---- token file ----

type tokenFileTarget struct{ fileState }

func (t *tokenFileTarget) String() string { return "token file " + t.path }

// splitTokenFile separates the token from surrounding whitespace (kept on rewrite).
func splitTokenFile(data []byte) (prefix, token, suffix string) {
	s := string(data)
	trimmedLeft := strings.TrimLeft(s, " \t\r\n")
	token = strings.TrimRight(trimmedLeft, " \t\r\n")
	return s[:len(s)-len(trimmedLeft)], token, trimmedLeft[len(token):]
}

func (t *tokenFileTarget) load() (string, string, error) {
	if err := t.read(); err != nil {
		return "", "", err
	}
	_, tok, _ := splitTokenFile(t.orig)
	if tok == "" {
		return "", "", fmt.Errorf("%s is empty", t.path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", "", fmt.Errorf("%s holds more than one line or word; a token file holds just the token", t.path)
	}
	return tok, "", nil
}

func (t *tokenFileTarget) write(token string) error {
	prefix, _, suffix := splitTokenFile(t.orig)
	return t.replace([]byte(prefix + token + suffix))
}

func (t *tokenFileTarget) alsoHeldBy(string) []string { return nil }

func (t *tokenFileTarget) readBack() (string, error) {
	data, err := os.ReadFile(t.path)
	if err != nil {
		return "", err
	}
	_, tok, _ := splitTokenFile(data)
	return tok, nil
}

// ---- .databrickscfg profile ----

type profileTarget struct {
	fileState
	profile string
}

func (p *profileTarget) String() string { return fmt.Sprintf("profile %s in %s", p.profile, p.path) }

// cfgLine is one line of a config file and its terminator ("\n", "\r\n" or "").
type cfgLine struct{ body, eol string }

func splitCfgLines(s string) []cfgLine {
	var out []cfgLine
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, cfgLine{body: s})
			break
		}
		body, eol := s[:i], "\n"
		if strings.HasSuffix(body, "\r") {
			body, eol = body[:len(body)-1], "\r\n"
		}
		out = append(out, cfgLine{body: body, eol: eol})
		s = s[i+1:]
	}
	return out
}

// keyValue locates key = value on a line the way gopkg.in/ini.v1 reads it for the Databricks
// SDK: '=' or ':' delimits, a value may be quoted with " or `, and an inline comment needs a
// space before '#' or ';'. start:end is the value's byte range within body.
func keyValue(body string) (key string, start, end int, ok bool) {
	idx := strings.IndexAny(body, "=:")
	if idx < 0 {
		return "", 0, 0, false
	}
	key = strings.TrimSpace(strings.TrimPrefix(body[:idx], "\ufeff"))
	rest := body[idx+1:]
	start = idx + 1 + len(rest) - len(strings.TrimLeft(rest, " \t"))
	v := body[start:]
	if len(v) > 0 && (v[0] == '"' || v[0] == '`') && !strings.HasPrefix(v, `"""`) {
		if j := strings.IndexByte(v[1:], v[0]); j >= 0 {
			return key, start + 1, start + 1 + j, true
		}
	}
	cut := len(v)
	for j := 1; j < len(v); j++ {
		if (v[j] == '#' || v[j] == ';') && (v[j-1] == ' ' || v[j-1] == '\t') {
			cut = j
			break
		}
	}
	return key, start, start + len(strings.TrimRight(v[:cut], " \t")), true
}

// profileKeys finds the lines of profile's keys. ini.v1 puts keys before the first section
// header in DEFAULT.
func profileKeys(lines []cfgLine, profile string) (keys map[string][]int, found bool, err error) {
	section, seen := "DEFAULT", map[string]int{}
	keys = map[string][]int{}
	for i, ln := range lines {
		t := strings.TrimSpace(strings.TrimPrefix(ln.body, "\ufeff"))
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			// Like ini.v1: the name is everything up to the last ']', spaces included.
			j := strings.LastIndexByte(t, ']')
			if j < 0 {
				return nil, false, fmt.Errorf("line %d opens a section without closing it", i+1)
			}
			section = t[1:j]
			seen[section]++
			continue
		}
		if section != profile {
			continue
		}
		found = true
		if k, _, _, ok := keyValue(ln.body); ok {
			keys[k] = append(keys[k], i)
		}
	}
	if seen[profile] > 1 {
		return nil, false, fmt.Errorf("profile %s appears %d times; merge the sections by hand first", profile, seen[profile])
	}
	return keys, found || seen[profile] > 0, nil
}

// profileValue returns the single value of key in profile ("" if absent).
func profileValue(lines []cfgLine, keys map[string][]int, profile, key string) (string, int, error) {
	idx := keys[key]
	switch len(idx) {
	case 0:
		return "", -1, nil
	case 1:
	default:
		return "", -1, fmt.Errorf("profile %s sets %s %d times; keep one by hand first", profile, key, len(idx))
	}
	body := lines[idx[0]].body
	_, s, e, _ := keyValue(body)
	return body[s:e], idx[0], nil
}

func (p *profileTarget) parse() ([]cfgLine, map[string][]int, error) {
	lines := splitCfgLines(string(p.orig))
	keys, found, err := profileKeys(lines, p.profile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p.path, err)
	}
	if !found {
		return nil, nil, newHintedError("rotate token", nil, fmt.Sprintf("%s has no profile %s; ", p.path, p.profile), "check {RotateOptions.Profile}", nil)
	}
	return lines, keys, nil
}

func (p *profileTarget) load() (string, string, error) {
	if err := p.read(); err != nil {
		return "", "", err
	}
	lines, keys, err := p.parse()
	if err != nil {
		return "", "", err
	}
	tok, _, err := profileValue(lines, keys, p.profile, "token")
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", p.path, err)
	}
	if tok == "" {
		return "", "", fmt.Errorf("profile %s in %s has no token (it may use OAuth or another method); only personal access tokens can be rotated", p.profile, p.path)
	}
	host, _, err := profileValue(lines, keys, p.profile, "host")
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", p.path, err)
	}
	return tok, host, nil
}

func (p *profileTarget) write(token string) error {
	lines, keys, err := p.parse()
	if err != nil {
		return err
	}
	_, i, err := profileValue(lines, keys, p.profile, "token")
	if err != nil {
		return err
	}
	if i < 0 {
		return fmt.Errorf("profile %s in %s has no token line", p.profile, p.path)
	}
	_, s, e, _ := keyValue(lines[i].body)
	lines[i].body = lines[i].body[:s] + token + lines[i].body[e:]
	var b strings.Builder
	for _, ln := range lines {
		b.WriteString(ln.body)
		b.WriteString(ln.eol)
	}
	return p.replace([]byte(b.String()))
}

func (p *profileTarget) alsoHeldBy(token string) []string {
	var out []string
	section := "DEFAULT"
	for _, ln := range splitCfgLines(string(p.orig)) {
		t := strings.TrimSpace(strings.TrimPrefix(ln.body, "\ufeff"))
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			if j := strings.LastIndexByte(t, ']'); j > 0 {
				section = t[1:j]
			}
			continue
		}
		if section == p.profile {
			continue
		}
		if k, s, e, ok := keyValue(ln.body); ok && k == "token" && ln.body[s:e] == token {
			out = append(out, section)
		}
	}
	return out
}

// readBack reads the token through the SDK's own config file loader.
func (p *profileTarget) readBack() (string, error) {
	f, err := config.LoadFile(p.path)
	if err != nil {
		return "", err
	}
	sec, err := f.GetSection(p.profile)
	if err != nil {
		return "", errors.New("profile " + p.profile + " is missing after the rewrite")
	}
	return sec.Key("token").String(), nil
}
