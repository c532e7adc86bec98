package tokenmgr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

// This file is the credential store: named Delta Sharing profiles in a private directory.
//
// Layout under the store directory (see [OpenStore]):
//
//	credentials/            0700
//	  <name>.share          0600  the profile JSON, byte for byte as received or imported
//	  <name>.meta.json      0600  [Meta]: display name, endpoint, source, created, expiry, state
//	  <name>.link           0600  pending activations only: the activation link (a secret)
//	recovery/               0700  credentials that were downloaded but could not be stored
//
// <name> is the credential name in lower case, so names are unique in any letter case; the
// name as given is kept in the metadata for display. Every file is written to a temporary file
// in the same directory (0600), fsynced, renamed into place, and the directory is fsynced.

// Store errors (test with errors.Is).
var (
	// ErrCredentialExists: a credential of that name (in any letter case) is already stored.
	ErrCredentialExists = errors.New("a credential with this name already exists")
	// ErrCredentialNotFound: no credential of that name is stored.
	ErrCredentialNotFound = errors.New("no such stored credential")
	// ErrCredentialPending: the credential's activation link was recorded but the credential
	// was not downloaded yet.
	ErrCredentialPending = errors.New("the credential has not been downloaded yet")
	// ErrInvalidCredentialName: the name is not a valid credential name.
	ErrInvalidCredentialName = errors.New("invalid credential name")
	// ErrInsecurePermissions: a credential file or directory is readable or writable by other
	// users; nothing is read from it until its mode is fixed.
	ErrInsecurePermissions = errors.New("insecure permissions on a credential file")
	// ErrCredentialNotSaved: an activated credential could not be stored; the error says where
	// it was kept instead.
	ErrCredentialNotSaved = errors.New("the activated credential could not be saved")
	// ErrNoCredential: no credential was given and no default credential is set.
	ErrNoCredential = errors.New("no credential given and no default credential set")
)

// File names inside the store.
const (
	credentialsDirName = "credentials"
	recoveryDirName    = "recovery"
	profileExt         = ".share"
	metaExt            = ".meta.json"
	linkExt            = ".link"
	defaultFileName    = "default"
	maxNameLen         = 64
)

// credentialNameRe is what a credential name may look like: letters, digits, '-', '_' and
// '.', starting with a letter or digit (no hidden files, nothing that looks like a flag).
var credentialNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// State is a stored credential's state.
type State string

// Credential states. Expired and insecure are never stored: they are derived when read.
const (
	StatePending State = "pending" // activation link recorded, credential not downloaded yet
	StateActive  State = "active"
	StateExpired State = "expired"
	// StateInsecure (derived, never stored): the profile file is readable or writable by other
	// users, so it is refused until its mode is fixed (Meta.Problem says how).
	StateInsecure State = "insecure"
)

// SourceKind says where a stored credential came from.
type SourceKind string

// Source kinds.
const (
	SourceActivation SourceKind = "activation"
	SourceImport     SourceKind = "import"
	SourceRotation   SourceKind = "rotation"
	// SourceUnknown marks a profile file found in the store without metadata.
	SourceUnknown SourceKind = "unknown"
)

// Source records where a credential came from.
type Source struct {
	Kind SourceKind `json:"kind"`
	// Host is the workspace host of the activation link (activation, rotation).
	Host string `json:"host,omitempty"`
	// File is the path the profile was imported from (import).
	File string `json:"file,omitempty"`
}

// Meta is a stored credential's metadata. It holds no secret.
type Meta struct {
	// Name is the name as given (lookups ignore letter case).
	Name string `json:"name"`
	// Endpoint is the profile's sharing endpoint ("" while pending).
	Endpoint string `json:"endpoint,omitempty"`
	// ProfileType is sharing.ProfileTypeBearerToken or ProfileTypeOAuthClientCredentials.
	ProfileType string    `json:"profileType,omitempty"`
	Source      Source    `json:"source"`
	Created     time.Time `json:"created"`
	// Expiry is the bearer token's expiration time (zero: none known, or never).
	Expiry time.Time `json:"expiry,omitzero"`
	// State is pending or active on disk; reads report expired for an active credential whose
	// expiry has passed, and insecure for one whose profile file other users can read.
	State State `json:"state"`
	// Problem (derived when read, never stored) says why an insecure credential is refused and
	// the command that fixes it.
	Problem string `json:"problem,omitempty"`
}

// Credential is a stored credential: its metadata, the parsed profile, the profile file's
// bytes and its path. Profile and Raw hold secrets; String and JSON show only the metadata.
type Credential struct {
	Meta
	Profile *sharing.Profile `json:"-"`
	Raw     []byte           `json:"-"`
	Path    string           `json:"path"`
}

// String describes the credential without secrets.
func (c Credential) String() string {
	s := fmt.Sprintf("credential %s (%s) for %s", c.Name, c.State, c.Endpoint)
	if !c.Expiry.IsZero() {
		s += ", expires " + c.Expiry.UTC().Format(time.RFC3339)
	}
	return s
}

// GoString keeps %#v from printing the profile's secrets.
func (c Credential) GoString() string { return "tokenmgr.Credential{" + c.String() + "}" }

// Format makes every fmt verb print the redacted description.
func (c Credential) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Store is a directory of named credentials. Methods are safe for use by one process at a
// time; concurrent writers of the same name may make one Put fail with ErrCredentialExists.
type Store struct {
	dir string
	// Now is the clock used for created times and expiry (nil: time.Now).
	Now func() time.Time

	// fault, when set (tests), runs before each step of a write ("create", "write", "fsync",
	// "rename", "syncdir") with the final path; an error makes that step fail.
	fault func(step, path string) error
}

// DefaultStoreDir is the user configuration directory's "deltashare" folder
// (~/.config/deltashare on Linux, ~/Library/Application Support/deltashare on macOS,
// %AppData%\deltashare on Windows). It reads no variable of its own: a caller that lets the
// environment choose the store (the deltashare command's DELTASHARE_CONFIG_DIR) passes that
// directory to [OpenStore] instead.
func DefaultStoreDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", newHintedStoreError("find the configuration directory", nil,
			fmt.Sprintf("cannot find the user configuration directory (%v); ", err), "set {StoreDir} to a private directory", err)
	}
	return filepath.Join(base, "deltashare"), nil
}

// OpenStore opens (creating if needed, mode 0700) the credential store in dir. A credentials
// directory that other users can read, or a store directory that they can write, is refused
// with the chmod command that fixes it.
func OpenStore(dir string) (*Store, error) {
	const op = "open the credential store"
	if strings.TrimSpace(dir) == "" {
		return nil, newStoreError(op, nil, op+": no directory given", nil)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, newStoreError(op, nil, fmt.Sprintf("%s: %v", op, err), err)
	}
	s := &Store{dir: abs}
	for _, d := range []string{abs, s.credDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, newHintedStoreError(op, nil, fmt.Sprintf("%s: cannot create %s: %v; ", op, d, pathErrText(err)), "set {StoreDir} to a writable private directory", err)
		}
	}
	if err := checkNotWritableByOthers(abs); err != nil {
		return nil, err
	}
	if err := checkPrivate(s.credDir(), true); err != nil {
		return nil, err
	}
	return s, nil
}

// checkDirs checks the modes of the store's directories before anything is read.
func (s *Store) checkDirs() error {
	if err := checkNotWritableByOthers(s.dir); err != nil {
		return err
	}
	return checkPrivate(s.credDir(), true)
}

// checkNotWritableByOthers refuses the store's top-level directory when its group or other
// users may write it (they could swap the credentials directory). Reading is allowed there:
// the credentials directory below is private.
func checkNotWritableByOthers(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return newStoreError("open the credential store", nil, fmt.Sprintf("cannot read %s: %s", dir, pathErrText(err)), err)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return newStoreError("open the credential store", ErrInsecurePermissions,
			fmt.Sprintf("refusing to use credential store directory %s: its mode %04o lets other users change it; fix it with: chmod 700 %s", dir, perm, shellQuote(dir)), nil)
	}
	return nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) credDir() string     { return filepath.Join(s.dir, credentialsDirName) }
func (s *Store) recoveryDir() string { return filepath.Join(s.dir, recoveryDirName) }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// paths of one credential.
func (s *Store) profilePath(key string) string { return filepath.Join(s.credDir(), key+profileExt) }
func (s *Store) metaPath(key string) string    { return filepath.Join(s.credDir(), key+metaExt) }
func (s *Store) linkPath(key string) string    { return filepath.Join(s.credDir(), key+linkExt) }

// ValidateCredentialName checks a credential name: 1 to 64 letters, digits, '-', '_' and '.',
// starting with a letter or digit.
func ValidateCredentialName(name string) error {
	if name == "" || len(name) > maxNameLen || !credentialNameRe.MatchString(name) {
		shown := name
		if len(shown) > maxNameLen+8 {
			shown = shown[:maxNameLen] + "…"
		}
		return newStoreError("check the credential name", ErrInvalidCredentialName,
			fmt.Sprintf("invalid credential name %q: use 1 to %d letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. acme-sales)", shown, maxNameLen), nil)
	}
	return nil
}

// nameKey validates name and returns its file name stem.
func nameKey(name string) (string, error) {
	if err := ValidateCredentialName(name); err != nil {
		return "", err
	}
	return strings.ToLower(name), nil
}

// existsError is the error of storing (importing) under a taken name.
func existsError(name string) error {
	return newHintedStoreError("store the credential", ErrCredentialExists,
		fmt.Sprintf("a credential named %q already exists (names ignore letter case): ", name),
		fmt.Sprintf("choose another name, pass {Overwrite} to replace it, or remove it first ({tokenmgr.Store.Remove} %s)", name), nil)
}

// activationExistsError is the error of activating under a taken name (checked before the
// one-time download, so nothing is replaced).
func activationExistsError(name string) error {
	return newHintedStoreError("store the credential", ErrCredentialExists,
		fmt.Sprintf("a credential named %q already exists (names ignore letter case): ", name),
		fmt.Sprintf("choose another name with {Name}, or remove it first ({tokenmgr.Store.Remove} %s)", name), nil)
}

func notFoundError(name string) error {
	return newHintedStoreError("read the credential", ErrCredentialNotFound,
		fmt.Sprintf("no stored credential named %q: ", name), "{tokenmgr.Store.List} shows the stored credentials", nil)
}

func pendingError(name string) error {
	return newHintedStoreError("read the credential", ErrCredentialPending,
		fmt.Sprintf("credential %q is pending: its activation link was recorded but not downloaded; ", name),
		fmt.Sprintf("run {tokenmgr.Activate} {Name} %s to download it", name), nil)
}

// exists reports whether any file of the credential key exists.
func (s *Store) exists(key string) (bool, error) {
	for _, p := range []string{s.profilePath(key), s.metaPath(key), s.linkPath(key)} {
		_, err := os.Lstat(p)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, newStoreError("read the credential store", nil, fmt.Sprintf("cannot read %s: %s", p, pathErrText(err)), err)
		}
	}
	return false, nil
}

// Exists reports whether a credential of this name (in any letter case) is stored, in any
// state.
func (s *Store) Exists(name string) (bool, error) {
	key, err := nameKey(name)
	if err != nil {
		return false, err
	}
	return s.exists(key)
}

// Put stores a credential: profileJSON is kept byte for byte (it must parse as a profile).
// meta's Endpoint, ProfileType and Expiry are taken from the profile; Name is name; Created
// defaults to now; State becomes active. Put never replaces an existing credential unless
// overwrite is true (a pending entry of the same name counts as existing). The profile is
// written before the metadata (whose new content is staged first), and a pending link is
// removed last; a failure at any step leaves the store's entry as it was.
func (s *Store) Put(name string, profileJSON []byte, meta Meta, overwrite bool) error {
	mode := putNew
	if overwrite {
		mode = putReplace
	}
	return s.put(name, profileJSON, meta, mode)
}

// putMode says what an existing entry of the same name does to a put.
type putMode int

const (
	putNew             putMode = iota // any existing entry: ErrCredentialExists
	putReplace                        // replace whatever exists
	putCompletePending                // a pending entry is completed; an active one: ErrCredentialExists
)

func (s *Store) put(name string, profileJSON []byte, meta Meta, mode putMode) error {
	key, err := nameKey(name)
	if err != nil {
		return err
	}
	p, err := sharing.ParseProfile(profileJSON)
	if err != nil {
		return newStoreError("store the credential", protocol.ErrInvalidProfile, fmt.Sprintf("cannot store credential %q: %v", name, err), err)
	}
	if p.PrivateKeyFile != "" && !filepath.IsAbs(p.PrivateKeyFile) {
		// The stored copy lives in the store's directory: a relative path would not lead to the
		// key from there (Import makes the paths of a profile file absolute first).
		return newStoreError("store the credential", protocol.ErrInvalidProfile, fmt.Sprintf(
			"cannot store credential %q: its auth.privateKey.privateKeyFile %q is a relative path; give the key's absolute path in the profile", name, p.PrivateKeyFile), nil)
	}
	meta = s.completeMeta(name, p, meta)
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if mode == putNew {
		ex, err := s.exists(key)
		if err != nil {
			return err
		}
		if ex {
			return existsError(name)
		}
	}
	// The store must be left as before, or complete: the metadata is written to a staging
	// file first (a full disk fails here, before anything visible changed), then the profile is
	// put in place, then the staged metadata is renamed over the old one. If that last step
	// fails, the profile is taken back.
	staged := s.stagedMetaPath(key)
	if err := s.writeFile(staged, append(mb, '\n'), false); err != nil {
		return writeError("store credential "+name, s.metaPath(key), err)
	}
	defer os.Remove(staged) // gone after the rename; removed on every failure
	oldProfile, oldErr := os.ReadFile(s.profilePath(key))
	if err := s.writeFile(s.profilePath(key), profileJSON, mode != putReplace); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return existsError(name)
		}
		return writeError("store credential "+name, s.profilePath(key), err)
	}
	if err := s.renameStaged(staged, s.metaPath(key)); err != nil {
		if oldErr == nil {
			_ = s.writeFile(s.profilePath(key), oldProfile, false)
		} else {
			_ = os.Remove(s.profilePath(key))
		}
		s.syncDir(s.credDir())
		return writeError("store credential "+name, s.metaPath(key), err)
	}
	if err := removeIfExists(s.linkPath(key)); err != nil {
		return writeError("store credential "+name, s.linkPath(key), err)
	}
	s.syncDir(s.credDir())
	return nil
}

// stagedMetaPath is where a credential's new metadata waits while its profile is written (a
// hidden name that listing ignores).
func (s *Store) stagedMetaPath(key string) string {
	return filepath.Join(s.credDir(), "."+key+metaExt+".staged")
}

// renameStaged moves a staged file to its final name (the fault hook sees the final name).
func (s *Store) renameStaged(staged, final string) error {
	if s.fault != nil {
		if err := s.fault("rename", final); err != nil {
			return &fs.PathError{Op: "rename", Path: final, Err: err}
		}
	}
	return os.Rename(staged, final)
}

func (s *Store) completeMeta(name string, p *sharing.Profile, meta Meta) Meta {
	meta.Name = name
	meta.Endpoint = p.Endpoint
	meta.ProfileType = p.Type
	meta.Expiry = p.ExpirationTime
	if meta.Created.IsZero() {
		meta.Created = s.now().UTC().Truncate(time.Second)
	}
	if meta.Source.Kind == "" {
		meta.Source.Kind = SourceImport
	}
	meta.State = StateActive
	meta.Problem = ""
	return meta
}

// putPending records an activation link under name (the name must be free).
func (s *Store) putPending(name string, link Sensitive, meta Meta) error {
	key, err := nameKey(name)
	if err != nil {
		return err
	}
	meta.Name = name
	meta.State = StatePending
	meta.Problem = ""
	if meta.Created.IsZero() {
		meta.Created = s.now().UTC().Truncate(time.Second)
	}
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	// The metadata is created without clobbering: it reserves the name.
	if err := s.writeFile(s.metaPath(key), append(mb, '\n'), true); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return existsError(name)
		}
		return writeError("record the activation of "+name, s.metaPath(key), err)
	}
	if err := s.writeFile(s.linkPath(key), []byte(link.Reveal()+"\n"), false); err != nil {
		_ = os.Remove(s.metaPath(key))
		return writeError("record the activation of "+name, s.linkPath(key), err)
	}
	return nil
}

// pendingLink returns the activation link recorded for a pending credential.
func (s *Store) pendingLink(name string) (Sensitive, error) {
	key, err := nameKey(name)
	if err != nil {
		return "", err
	}
	data, err := s.readPrivate(s.linkPath(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", newStoreError("read the activation link", ErrCredentialNotFound,
				fmt.Sprintf("no pending activation is recorded for %q: give the activation link", name), nil)
		}
		return "", err
	}
	return Sensitive(strings.TrimSpace(string(data))), nil
}

// dropPending removes a pending entry (its link and metadata); an active credential of the
// same name is left alone.
func (s *Store) dropPending(name string) error {
	key, err := nameKey(name)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(s.profilePath(key)); err == nil {
		return nil
	}
	if err := removeIfExists(s.linkPath(key)); err != nil {
		return err
	}
	if err := removeIfExists(s.metaPath(key)); err != nil {
		return err
	}
	s.syncDir(s.credDir())
	return nil
}

// Stat returns a credential's metadata (any state, expired derived) without reading the
// profile.
func (s *Store) Stat(name string) (Meta, error) {
	key, err := nameKey(name)
	if err != nil {
		return Meta{}, err
	}
	return s.readMeta(key, name)
}

func (s *Store) readMeta(key, name string) (Meta, error) {
	if err := s.checkDirs(); err != nil {
		return Meta{}, err
	}
	data, err := s.readPrivate(s.metaPath(key))
	var m Meta
	switch {
	case err == nil:
		if jerr := json.Unmarshal(data, &m); jerr != nil {
			return Meta{}, newStoreError("read the credential", nil,
				fmt.Sprintf("the metadata file %s is damaged (%s); remove it (the profile %s is kept) or remove the credential", s.metaPath(key), jsonErrText(jerr), s.profilePath(key)), nil)
		}
		if m.Name == "" {
			m.Name = key
		}
	case errors.Is(err, fs.ErrNotExist):
		// A profile without metadata (dropped in by hand, or a crash between the two writes).
		raw, perr := s.readPrivate(s.profilePath(key))
		if perr != nil {
			if errors.Is(perr, fs.ErrNotExist) {
				return Meta{}, notFoundError(name)
			}
			return Meta{}, perr
		}
		m = Meta{Name: key, Source: Source{Kind: SourceUnknown}, State: StateActive}
		if p, perr := sharing.ParseProfile(raw); perr == nil {
			m.Endpoint, m.ProfileType, m.Expiry = p.Endpoint, p.Type, p.ExpirationTime
		}
		if info, serr := os.Stat(s.profilePath(key)); serr == nil {
			m.Created = info.ModTime().UTC().Truncate(time.Second)
		}
	default:
		return Meta{}, err
	}
	m.State = s.deriveState(m)
	if m.State != StatePending {
		if err := checkPrivate(s.profilePath(key), false); errors.Is(err, ErrInsecurePermissions) {
			m.State, m.Problem = StateInsecure, err.Error()
		}
	}
	return m, nil
}

func (s *Store) deriveState(m Meta) State {
	if m.State == StatePending {
		return StatePending
	}
	if !m.Expiry.IsZero() && !s.now().Before(m.Expiry) {
		return StateExpired
	}
	return StateActive
}

// Get reads a stored credential. A pending credential gives ErrCredentialPending; files other
// users can read give ErrInsecurePermissions.
func (s *Store) Get(name string) (*Credential, error) {
	key, err := nameKey(name)
	if err != nil {
		return nil, err
	}
	m, err := s.readMeta(key, name)
	if err != nil {
		return nil, err
	}
	if m.State == StatePending {
		return nil, pendingError(m.Name)
	}
	path := s.profilePath(key)
	raw, err := s.readPrivate(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, newHintedStoreError("read the credential", ErrCredentialNotFound,
				fmt.Sprintf("the profile file %s of credential %q is missing: ", path, m.Name),
				fmt.Sprintf("remove the credential ({tokenmgr.Store.Remove} %s) and activate or import it again", m.Name), nil)
		}
		return nil, err
	}
	p, err := sharing.ParseProfile(raw)
	if err != nil {
		return nil, newStoreError("read the credential", protocol.ErrInvalidProfile, fmt.Sprintf("stored credential %q (%s): %v", m.Name, path, err), err)
	}
	return &Credential{Meta: m, Profile: p, Raw: raw, Path: path}, nil
}

// List returns every stored credential's metadata, sorted by name.
func (s *Store) List() ([]Meta, error) {
	if err := s.checkDirs(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.credDir())
	if err != nil {
		return nil, newStoreError("list the credentials", nil, fmt.Sprintf("cannot read %s: %s", s.credDir(), pathErrText(err)), err)
	}
	keys := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || e.IsDir() {
			continue
		}
		for _, ext := range []string{metaExt, profileExt, linkExt} {
			if k, ok := strings.CutSuffix(n, ext); ok && ValidateCredentialName(k) == nil && k == strings.ToLower(k) {
				keys[k] = true
				break
			}
		}
	}
	out := []Meta{}
	for k := range keys {
		m, err := s.readMeta(k, k)
		if errors.Is(err, ErrCredentialNotFound) {
			continue // a lone .link file
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// Remove deletes a stored credential (any state).
func (s *Store) Remove(name string) error {
	key, err := nameKey(name)
	if err != nil {
		return err
	}
	ex, err := s.exists(key)
	if err != nil {
		return err
	}
	if !ex {
		return notFoundError(name)
	}
	// The secret goes first, the metadata (which names the credential) last.
	for _, p := range []string{s.profilePath(key), s.linkPath(key), s.metaPath(key)} {
		if err := removeIfExists(p); err != nil {
			return newStoreError("remove the credential", nil, fmt.Sprintf("cannot remove %s: %s", p, pathErrText(err)), err)
		}
	}
	s.syncDir(s.credDir())
	if def, err := s.Default(); err == nil && strings.EqualFold(def, name) {
		return s.ClearDefault()
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// The default credential: used when no credential is given (see [Store.ResolveProfile]).

func (s *Store) defaultPath() string { return filepath.Join(s.dir, defaultFileName) }

// SetDefault makes the stored credential name (in any letter case; it must exist) the default.
func (s *Store) SetDefault(name string) error {
	m, err := s.Stat(name)
	if err != nil {
		return err
	}
	if err := s.writeFile(s.defaultPath(), []byte(m.Name+"\n"), false); err != nil {
		return writeError("set the default credential", s.defaultPath(), err)
	}
	return nil
}

// Default returns the default credential's name ("" when none is set).
func (s *Store) Default() (string, error) {
	data, err := s.readPrivate(s.defaultPath())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(string(data))
	if ValidateCredentialName(name) != nil {
		return "", newStoreError("read the default credential", nil,
			fmt.Sprintf("the default credential file %s is damaged; set the default again, or remove the file", s.defaultPath()), nil)
	}
	return name, nil
}

// ClearDefault unsets the default credential (no error when none is set).
func (s *Store) ClearDefault() error {
	if err := removeIfExists(s.defaultPath()); err != nil {
		return newStoreError("unset the default credential", nil, fmt.Sprintf("cannot remove %s: %s", s.defaultPath(), pathErrText(err)), err)
	}
	s.syncDir(s.dir)
	return nil
}

// Import stores the profile file at path under name (source import). It never replaces an
// existing credential. Relative file paths in the profile (a JWT bearer profile's private key)
// are stored made absolute against the profile file's directory.
func (s *Store) Import(name, path string) error {
	if _, err := nameKey(name); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return newStoreError("import the credential", nil, fmt.Sprintf("cannot open %s: %s", path, pathErrText(err)), err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, sharing.MaxProfileSize+1))
	if err != nil {
		return newStoreError("import the credential", nil, fmt.Sprintf("cannot read %s: %s", path, pathErrText(err)), err)
	}
	// Paths inside the profile are relative to its directory; the stored copy is elsewhere.
	if raw, err = sharing.ResolveProfileFiles(raw, filepath.Dir(path)); err != nil {
		return newStoreError("import the credential", protocol.ErrInvalidProfile, fmt.Sprintf("%s is not a usable profile: %v", path, err), err)
	}
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		abs = path
	}
	return s.Put(name, raw, Meta{Source: Source{Kind: SourceImport, File: abs}}, false)
}

// Export writes the stored credential's profile, byte for byte, to outPath with mode 0600
// (atomically). An existing outPath is replaced only when overwrite is true.
func (s *Store) Export(name, outPath string, overwrite bool) error {
	c, err := s.Get(name)
	if err != nil {
		return err
	}
	if err := s.writeFile(outPath, c.Raw, !overwrite); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return newHintedStoreError("export the credential", ErrCredentialExists,
				outPath+" already exists: ", "choose another file, or pass {Overwrite} to replace it", nil)
		}
		return writeError("export credential "+name, outPath, err)
	}
	return nil
}

// ResolveProfile loads the profile that ref designates, so that a stored credential's name
// works wherever a profile file does. "-", "env:NAME", inline JSON and paths of existing files
// are read by sharing.LoadProfileWith with opts (its Stdin and LookupEnv: this package reads no
// environment itself); otherwise, if ref is the name of a stored credential, that credential is
// used. An empty ref means the default credential ([Store.SetDefault]); with none set the
// error matches ErrNoCredential. s may be nil (no store: LoadProfileWith only).
func (s *Store) ResolveProfile(ref string, opts sharing.LoadProfileOptions) (*sharing.Profile, error) {
	trimmed := strings.TrimSpace(ref)
	if s != nil && trimmed == "" {
		def, err := s.Default()
		if err != nil {
			return nil, err
		}
		if def == "" {
			return nil, newHintedStoreError("load the profile", ErrNoCredential, "no credential given and no default credential set: ",
				"give one ({Profile}), or set a default ({tokenmgr.Store.SetDefault} NAME); {tokenmgr.Store.List} shows the stored credentials, {tokenmgr.Activate} LINK adds one", nil)
		}
		c, err := s.Get(def)
		if err != nil {
			return nil, fmt.Errorf("the default credential %s: %w", def, err)
		}
		return c.Profile, nil
	}
	if s == nil || trimmed == "" || trimmed == "-" || strings.HasPrefix(trimmed, "env:") || strings.HasPrefix(trimmed, "{") {
		return sharing.LoadProfileWith(ref, opts)
	}
	if _, err := os.Stat(ref); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return sharing.LoadProfileWith(ref, opts)
	}
	if ValidateCredentialName(trimmed) != nil {
		return sharing.LoadProfileWith(ref, opts)
	}
	ex, err := s.Exists(trimmed)
	if err != nil {
		return nil, err
	}
	if !ex {
		return nil, newHintedStoreError("load the profile", ErrCredentialNotFound,
			fmt.Sprintf("%q is neither a profile file nor a stored credential: ", trimmed),
			"give a profile file path, or a name from {tokenmgr.Store.List}", protocol.ErrInvalidProfile)
	}
	c, err := s.Get(trimmed)
	if err != nil {
		return nil, err
	}
	return c.Profile, nil
}

// ---------------------------------------------------------------------------------------------
// Files.

// writeFile writes data to path durably with mode 0600 (see atomicfile.Write): a temporary
// file in the same directory, fsync, rename over path (or, with noClobber, a hard link that
// fails with fs.ErrExist if path exists), fsync of the directory.
func (s *Store) writeFile(path string, data []byte, noClobber bool) error {
	opts := atomicfile.Options{Perm: 0o600, NoReplace: noClobber}
	if s != nil {
		opts.Fault = s.fault
	}
	return atomicfile.Write(path, data, opts)
}

// syncDir fsyncs dir, best effort (after removals).
func (s *Store) syncDir(dir string) { _ = atomicfile.SyncDir(dir) }

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// readPrivate reads a store file after checking it is private to its owner.
func (s *Store) readPrivate(path string) ([]byte, error) {
	if err := checkPrivate(path, false); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, newStoreError("read the credential store", nil, fmt.Sprintf("cannot read %s: %s", path, pathErrText(err)), err)
	}
	return data, nil
}

// checkPrivate refuses a file (0600 expected) or directory (0700 expected) that its group or
// other users may read or write, saying how to fix it. A missing path passes through as
// fs.ErrNotExist. Windows has no such modes: nothing is checked there.
func checkPrivate(path string, dir bool) error {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return newStoreError("read the credential store", nil, fmt.Sprintf("cannot read %s: %s", path, pathErrText(err)), err)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		fix, what := "chmod 600 "+shellQuote(path), "file"
		if dir {
			fix, what = "chmod 700 "+shellQuote(path), "directory"
		}
		return newStoreError("read the credential store", ErrInsecurePermissions,
			fmt.Sprintf("refusing to use credential %s %s: its mode %04o lets other users read or change it; fix it with: %s", what, path, perm, fix), nil)
	}
	return nil
}

// shellQuote quotes a path for a command the user can paste.
func shellQuote(p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%", r))
	}) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// pathErrText is an OS error without the repeated path.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	return err.Error()
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return "unexpected JSON content"
}

func writeError(op, path string, err error) error {
	return newStoreError(op, nil, fmt.Sprintf("%s: cannot write %s: %s", op, path, pathErrText(err)), err)
}
