package tokenmgr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltashare/deltashare/internal/atomicfile"
	"github.com/deltashare/deltashare/internal/operr"
)

// ActivateOptions configures [Activate].
type ActivateOptions struct {
	// Link is the activation link (https://HOST/delta_sharing/retrieve_config.html?CODE).
	// Alternatively give Code and Host. With neither, a pending activation recorded under Name
	// is resumed.
	Link Sensitive
	// Code is a bare activation code; Host is then the workspace host.
	Code Sensitive
	Host string
	// Name is the credential's name in Store. Default: [DefaultCredentialName] of the
	// activation link's host. The name must be free: this is checked before downloading.
	Name string
	// Out, when set, also writes the profile to this file (mode 0600). An existing file is
	// never replaced (checked before downloading).
	Out string
	// Store receives the credential; may be nil when Out is set.
	Store *Store
	// HTTPClient carries the two public activation requests (nil: a default client).
	HTTPClient *http.Client

	// fault, when set (tests), runs before each step of every file write ("create", "write",
	// "fsync", "rename", "syncdir"; "recovery" before a recovery file is written).
	fault func(step, path string) error
}

// ActivateResult describes what [Activate] did. It holds no secret except Credential's token
// (a [Sensitive]).
type ActivateResult struct {
	// Name is the credential's name in the store ("" when only Out was written).
	Name string
	// Meta is the stored metadata (zero when not stored).
	Meta Meta
	// StoredPath is the profile file in the store ("" when not stored).
	StoredPath string
	// OutPath is Out when it was written.
	OutPath string
	// RecoveryPath is set when storing failed: the credential was saved there instead.
	RecoveryPath string
	// Credential is the downloaded credential (nil if the download failed). When nothing
	// could be written anywhere it is the only copy: print its Profile() for the user.
	Credential *ActivatedCredential
}

// Activate downloads the credential behind an activation link and stores it.
//
// The order matters because a link can be downloaded once: the link is parsed, the name (and
// Out) are checked to be free, the link is recorded as a pending credential (a 0600 file, so
// an interrupted download can be retried by calling Activate with the same Name), then the
// credential is downloaded and written (temporary file, fsync, rename). If writing fails for
// any reason, the credential is written to a recovery file — the store's recovery directory,
// else the system temporary directory, both 0600 — and the error (matching
// ErrCredentialNotSaved) names that file and how to import it. If even that fails, the
// result's Credential is the only copy and the error says so.
//
// A used link gives an error matching ErrActivationUsed and an expired one
// ErrActivationExpired: the provider must issue a new link. A link the service does not know
// (cut short) gives ErrActivationLinkUnknown, a host that is not an activation service
// ErrNotActivationEndpoint; the pending entry is dropped in all four cases. Errors and the result's String output never contain the link, the code or the
// token.
func Activate(ctx context.Context, opts ActivateOptions) (*ActivateResult, error) {
	const op = "activate the credential"
	st := opts.Store
	if st != nil && opts.fault != nil {
		c := *st
		c.fault = opts.fault
		st = &c
	}
	if st == nil {
		st = &Store{fault: opts.fault} // file writes only
	}
	storing := opts.Store != nil
	if !storing && opts.Out == "" {
		return nil, newHintedStoreError(op, nil, op+": nowhere to save the credential: ", "give a credential store or an output file ({Out} FILE)", nil)
	}

	// 1. The link.
	linkOrCode := opts.Link
	if linkOrCode.IsZero() {
		linkOrCode = opts.Code
	}
	resumed := false
	if linkOrCode.IsZero() && storing && opts.Name != "" {
		l, err := st.pendingLink(opts.Name)
		if err != nil {
			return nil, err
		}
		linkOrCode, resumed = l, true
	}
	host, code, err := ParseActivationInput(linkOrCode.Reveal(), opts.Host)
	if err != nil {
		return nil, err
	}
	canonical := Sensitive(host + activationPagePath + "?" + code)

	// 2. The destinations must be free before the one-time download.
	res := &ActivateResult{}
	name := opts.Name
	if storing {
		if name == "" {
			name = DefaultCredentialName(host)
		}
		if err := ValidateCredentialName(name); err != nil {
			return nil, err
		}
		m, err := st.Stat(name)
		switch {
		case errors.Is(err, ErrCredentialNotFound):
		case err != nil:
			return nil, err
		case m.State == StatePending:
			rec, lerr := st.pendingLink(name)
			if lerr != nil || rec.Reveal() != canonical.Reveal() {
				return nil, newHintedStoreError(op, ErrCredentialExists,
					fmt.Sprintf("a pending activation of another link is recorded as %q: ", m.Name),
					fmt.Sprintf("choose another name with {Name}, or remove it first ({tokenmgr.Store.Remove} %s)", m.Name), nil)
			}
			resumed = true
			name = m.Name
		default:
			return nil, activationExistsError(m.Name)
		}
		res.Name = name
	}
	if opts.Out != "" {
		if err := checkOutFree(opts.Out); err != nil {
			return nil, err
		}
	}

	// 3. Record the pending activation (this reserves the name).
	if storing && !resumed {
		if err := st.putPending(name, canonical, Meta{Source: Source{Kind: SourceActivation, Host: host}}); err != nil {
			return nil, err
		}
	}

	// 4. Download.
	cred, err := FetchActivation(ctx, host, code, opts.HTTPClient)
	if err != nil {
		if !storing {
			return nil, err
		}
		var ae *ActivationError
		definitive := errors.Is(err, ErrActivationUsed) || errors.Is(err, ErrActivationExpired) ||
			errors.Is(err, ErrActivationLinkUnknown) || errors.Is(err, ErrNotActivationEndpoint) ||
			(errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500)
		if definitive {
			_ = st.dropPending(name)
			return nil, err
		}
		return nil, &ActivationError{StatusCode: statusOf(ae), Base: operr.WithAdvice(op, nil,
			err.Error()+"; the activation link is kept in the credential store: ",
			fmt.Sprintf("run {tokenmgr.Activate} {Name} %s to try again (or {tokenmgr.Store.Remove} %s to forget it)", name, name), err)}
	}
	res.Credential = cred
	raw := cred.Profile()

	// 5. Write.
	var failures []string
	saved := ""
	if opts.Out != "" {
		if werr := st.writeFile(opts.Out, raw, true); werr != nil {
			failures = append(failures, fmt.Sprintf("writing %s failed: %s", opts.Out, pathErrText(werr)))
		} else {
			res.OutPath, saved = opts.Out, opts.Out
		}
	}
	if storing {
		meta := Meta{Source: Source{Kind: SourceActivation, Host: host}}
		if perr := st.put(name, raw, meta, putCompletePending); perr != nil {
			failures = append(failures, perr.Error())
			_ = st.dropPending(name) // the link is used up: free the name for the import
		} else {
			m, serr := st.Stat(name)
			if serr == nil {
				res.Meta = m
			}
			res.StoredPath = st.profilePath(strings.ToLower(name))
			if saved == "" {
				saved = res.StoredPath
			}
		}
	}
	if len(failures) == 0 {
		return res, nil
	}

	importName := name
	if importName == "" {
		importName = DefaultCredentialName(host)
	}
	reason := strings.Join(failures, "; ")
	if saved != "" {
		// One destination worked: the credential is safe there.
		return res, newHintedStoreError(op, ErrCredentialNotSaved,
			fmt.Sprintf("%s: the credential was downloaded and saved to %s, but %s; ", op, saved, reason),
			fmt.Sprintf("to store it, run: {tokenmgr.Store.Import} %s %s", importName, shellQuote(saved)), nil)
	}
	path, rerr := writeRecovery(st, storing, importName, raw)
	if rerr == nil {
		res.RecoveryPath = path
		return res, newHintedStoreError(op, ErrCredentialNotSaved,
			fmt.Sprintf("%s: the credential was downloaded but could not be stored (%s); it was kept in %s (mode 0600, readable only by you); ", op, reason, path),
			fmt.Sprintf("fix the problem, then run: {tokenmgr.Store.Import} %s %s", importName, shellQuote(path)), nil)
	}
	return res, newHintedStoreError(op, ErrCredentialNotSaved,
		fmt.Sprintf("%s: the credential was downloaded but could not be written anywhere (%s; %s); the link cannot be downloaded again, so ", op, reason, rerr),
		fmt.Sprintf("the credential is returned to the caller only ({ActivateResult.Credential}): save it to a file, then run: {tokenmgr.Store.Import} %s FILE", importName), nil)
}

func statusOf(ae *ActivationError) int {
	if ae == nil {
		return 0
	}
	return ae.StatusCode
}

// checkOutFree refuses an existing output file or a missing directory before downloading.
func checkOutFree(out string) error {
	const op = "activate the credential"
	if _, err := os.Lstat(out); err == nil {
		return newStoreError(op, ErrCredentialExists,
			fmt.Sprintf("%s already exists: the activation link can be downloaded only once, so choose another output file (or remove it first)", out), nil)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return newStoreError(op, nil, fmt.Sprintf("cannot use %s: %s", out, pathErrText(err)), err)
	}
	dir := filepath.Dir(out)
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return newStoreError(op, nil, fmt.Sprintf("the directory of %s does not exist: create it first", out), err)
	}
	return nil
}

// writeRecovery keeps a credential that could not be stored: in the store's recovery
// directory, else in the system temporary directory. Files are 0600 and never replace
// anything.
func writeRecovery(st *Store, storing bool, name string, raw []byte) (string, error) {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	var errs []string
	try := func(dir, base string) (string, bool) {
		path := filepath.Join(dir, base)
		if st.fault != nil {
			if err := st.fault("recovery", path); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s", dir, pathErrText(err)))
				return "", false
			}
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", dir, pathErrText(err)))
			return "", false
		}
		for i := 0; i < 100; i++ {
			p := path
			if i > 0 {
				p = strings.TrimSuffix(path, profileExt) + fmt.Sprintf("-%d", i) + profileExt
			}
			err := atomicfile.WriteSecret(p, raw)
			if err == nil {
				return p, true
			}
			if !errors.Is(err, fs.ErrExist) {
				errs = append(errs, fmt.Sprintf("%s: %s", dir, pathErrText(err)))
				return "", false
			}
		}
		errs = append(errs, dir+": too many recovery files")
		return "", false
	}
	if storing {
		if p, ok := try(st.recoveryDir(), name+"-"+stamp+profileExt); ok {
			return p, nil
		}
	}
	if p, ok := try(os.TempDir(), "deltashare-recovery-"+name+"-"+stamp+profileExt); ok {
		return p, nil
	}
	return "", errors.New("no recovery file could be written either (" + strings.Join(errs, "; ") + ")")
}

// DefaultCredentialName is the name an activated credential gets when none is given: the
// first label of the activation link's host, lower case ("dbc-1234abcd-5678" for
// https://dbc-1234abcd-5678.cloud.databricks.com; for an IP address, the address with '-'
// for '.' and ':'). It is derived from the link, not from the downloaded profile's endpoint,
// so that it can be checked before the one-time download; no suffix is added on a collision
// (activation then stops before downloading and asks for another Name).
func DefaultCredentialName(host string) string {
	h := host
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		h = u.Hostname()
	} else if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.Trim(h, "[]"))
	if net.ParseIP(h) != nil {
		h = strings.NewReplacer(".", "-", ":", "-").Replace(h)
	} else if i := strings.IndexByte(h, '.'); i > 0 {
		h = h[:i]
	}
	var b strings.Builder
	for _, r := range h {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			b.WriteRune(r)
		}
	}
	name := strings.TrimLeft(b.String(), "-_")
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	if name == "" {
		return "deltashare"
	}
	return name
}
