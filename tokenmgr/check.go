package tokenmgr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
	"github.com/deltashare/deltashare/sharing/reader"
	"github.com/deltashare/deltashare/tokenmgr/secret"
)

// DefaultExpiryWarning is the warning window of [Check] when CheckOptions.WarnExpiry is 0.
const DefaultExpiryWarning = 7 * 24 * time.Hour

// DefaultCheckParallel is how many tables [Check] examines at once by default.
const DefaultCheckParallel = 4

// Exit codes of a check (see [CheckReport.ExitCode]); they match the deltashare command's.
const (
	CheckExitOK       = 0
	CheckExitPartial  = 3
	CheckExitRejected = 4
	CheckExitExpiring = 5
)

// CheckStatus is the overall verdict of a check.
type CheckStatus string

// Check verdicts.
const (
	CheckOK       CheckStatus = "ok"       // everything readable, no expiry within the window
	CheckExpiring CheckStatus = "expiring" // everything readable, the token expires within the window
	CheckRejected CheckStatus = "rejected" // the server rejected the token (HTTP 401/403)
	CheckExpired  CheckStatus = "expired"  // the token's expiration time has passed (nothing sent)
	CheckPartial  CheckStatus = "partial"  // some share or table could not be read
	CheckEmpty    CheckStatus = "empty"    // the token is accepted, but no table is readable yet
)

// CheckOptions configures [Check].
type CheckOptions struct {
	// Tables are the tables to examine; empty means every table the credential can list.
	Tables []protocol.Table
	// WarnExpiry is the warning window: a token expiring sooner makes the status "expiring"
	// (0: DefaultExpiryWarning; negative: never warn).
	WarnExpiry time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Parallel bounds the tables examined at once (0: DefaultCheckParallel).
	Parallel int
	// ErrorText words an error for the report (nil: err.Error()); the CLI passes its renderer,
	// so advice in errors names its flags and commands. Secrets and URL queries are removed
	// from the text either way.
	ErrorText func(error) string
}

// ShareReport is what a check saw of one share.
type ShareReport struct {
	Name    string   `json:"name"`
	Schemas []string `json:"schemas"`
	// Tables is the number of tables listed in the share.
	Tables int    `json:"tables"`
	Error  string `json:"error,omitempty"`
}

// TableReport is what a check saw of one table.
type TableReport struct {
	Table protocol.Table `json:"table"`
	// Version is the table's current version (-1 when unknown).
	Version int64 `json:"version"`
	// Format is the response format the server used (parquet or delta); FileFormat the data
	// files' format (parquet).
	Format     string `json:"format,omitempty"`
	FileFormat string `json:"fileFormat,omitempty"`
	// Columns is the number of the table's columns as a user sees them: the schema's top-level
	// fields, partition columns included (a struct counts once, not its leaves).
	// PartitionColumns names the partition columns.
	Columns          int      `json:"columns"`
	PartitionColumns []string `json:"partitionColumns"`
	// NumFiles is the number of data files of the table's version and Size their bytes, as the
	// server reports them in the table's metadata (nil: not reported; 0 when the table has no
	// data files, which is fine).
	NumFiles *int64 `json:"numFiles,omitempty"`
	Size     *int64 `json:"size,omitempty"`
	// FooterOK reports that one data file's Parquet footer was fetched and parsed.
	FooterOK bool `json:"footerOk"`
	// FooterRows is that file's row count; FooterColumns the top-level columns stored in it
	// (partition columns are not stored in data files).
	FooterRows    int64 `json:"footerRows,omitempty"`
	FooterColumns int   `json:"footerColumns,omitempty"`
	// Error says what failed ("" when the table is readable).
	Error string `json:"error,omitempty"`
}

// OK reports whether the table was read without error.
func (t TableReport) OK() bool { return t.Error == "" }

// MarshalJSON writes the report with its table as the protocol names it plus the table's
// fullName (share.schema.table), as every table object of the command line's JSON has it.
func (t TableReport) MarshalJSON() ([]byte, error) {
	type fields TableReport // the same fields, without this method
	type table struct {
		Share    string `json:"share"`
		Schema   string `json:"schema"`
		Name     string `json:"name"`
		FullName string `json:"fullName"`
	}
	return json.Marshal(struct {
		Table table `json:"table"`
		fields
	}{table{t.Table.Share, t.Table.Schema, t.Table.Name, t.Table.String()}, fields(t)})
}

// CheckReport is the result of [Check]. It holds no token and no signed URL.
type CheckReport struct {
	Endpoint      string `json:"endpoint"`
	TokenAccepted bool   `json:"tokenAccepted"`
	Expired       bool   `json:"expired"`
	// ExpirationTime is the token's expiration time (zero: none).
	ExpirationTime time.Time `json:"expirationTime,omitzero"`
	// ExpiresInSeconds is the time to expiry in whole seconds, negative once expired (nil
	// when the token has no expiration time).
	ExpiresInSeconds *int64 `json:"expiresInSeconds,omitempty"`
	// WarnExpirySeconds is the warning window in seconds (0: no warning).
	WarnExpirySeconds int64         `json:"warnExpirySeconds"`
	Shares            []ShareReport `json:"shares"`
	Tables            []TableReport `json:"tables"`
	// ReadableTables and UnreadableTables are the totals of Tables.
	ReadableTables   int         `json:"readableTables"`
	UnreadableTables int         `json:"unreadableTables"`
	Status           CheckStatus `json:"status"`
	// Error explains a rejected or expired token.
	Error string `json:"error,omitempty"`
	// Exit is ExitCode(), for JSON readers.
	Exit int `json:"exitCode"`
}

// ExitCode is the process exit code for the report, by precedence 4 > 3 > 5 > 0: a rejected
// or expired token (4) outranks unreadable shares or tables, or no table at all (3), which
// outrank an expiry within the warning window (5); 0 means all good.
func (r *CheckReport) ExitCode() int {
	switch r.Status {
	case CheckRejected, CheckExpired:
		return CheckExitRejected
	case CheckPartial, CheckEmpty:
		return CheckExitPartial
	case CheckExpiring:
		return CheckExitExpiring
	}
	return CheckExitOK
}

func (r *CheckReport) finish(expiring bool) {
	switch {
	case r.Expired:
		r.Status = CheckExpired
	case !r.TokenAccepted:
		r.Status = CheckRejected
	default:
		r.Status = CheckOK
		for _, s := range r.Shares {
			if s.Error != "" {
				r.Status = CheckPartial
			}
		}
		r.ReadableTables, r.UnreadableTables = 0, 0
		for _, t := range r.Tables {
			if !t.OK() {
				r.Status = CheckPartial
				r.UnreadableTables++
			} else {
				r.ReadableTables++
			}
		}
		if r.Status == CheckOK && len(r.Tables) == 0 {
			r.Status = CheckEmpty
		}
		if r.Status == CheckOK && expiring {
			r.Status = CheckExpiring
		}
	}
	r.Exit = r.ExitCode()
}

// Text renders the report for people.
func (r *CheckReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Endpoint: %s\n", r.Endpoint)
	switch {
	case r.Expired:
		fmt.Fprintf(&b, "Token:    EXPIRED on %s\n", r.ExpirationTime.UTC().Format(time.RFC3339))
	case !r.TokenAccepted:
		fmt.Fprintf(&b, "Token:    REJECTED by the server\n")
	default:
		fmt.Fprintf(&b, "Token:    accepted")
		if r.ExpiresInSeconds != nil {
			left := time.Duration(*r.ExpiresInSeconds) * time.Second
			fmt.Fprintf(&b, ", expires %s (%s left)", r.ExpirationTime.UTC().Format(time.RFC3339), DurationText(left))
			if r.Status == CheckExpiring || (r.WarnExpirySeconds > 0 && *r.ExpiresInSeconds <= r.WarnExpirySeconds) {
				fmt.Fprintf(&b, " — WARNING: within the %s warning window; ask the data provider for a new credential",
					DurationText(time.Duration(r.WarnExpirySeconds)*time.Second))
			}
		} else {
			b.WriteString(", no expiration time")
		}
		b.WriteString("\n")
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "          %s\n", r.Error)
	}
	if r.TokenAccepted {
		fmt.Fprintf(&b, "Shares:   %d\n", len(r.Shares))
		for _, s := range r.Shares {
			if s.Error != "" {
				fmt.Fprintf(&b, "  FAIL  %s: %s\n", s.Name, s.Error)
				continue
			}
			fmt.Fprintf(&b, "  ok    %s: %s, %s\n", s.Name, Plural(len(s.Schemas), "schema"), Plural(s.Tables, "table"))
		}
		fmt.Fprintf(&b, "Tables:   %d", len(r.Tables))
		if r.UnreadableTables > 0 {
			fmt.Fprintf(&b, " (%d readable, %d unreadable)", r.ReadableTables, r.UnreadableTables)
		}
		b.WriteString("\n")
		for _, t := range r.Tables {
			if !t.OK() {
				fmt.Fprintf(&b, "  FAIL  %s: %s\n", t.Table, t.Error)
				continue
			}
			fmt.Fprintf(&b, "  ok    %s: version %d, %s, %s", t.Table, t.Version, t.Format, Plural(t.Columns, "column"))
			if len(t.PartitionColumns) > 0 {
				fmt.Fprintf(&b, " (partitioned by %s)", strings.Join(t.PartitionColumns, ", "))
			}
			switch {
			case t.NumFiles != nil && *t.NumFiles == 0, t.NumFiles == nil && !t.FooterOK:
				b.WriteString(", no data files")
			case t.NumFiles != nil:
				fmt.Fprintf(&b, ", %s", Plural(*t.NumFiles, "file"))
			default:
				b.WriteString(", file count not reported by the server")
			}
			if t.FooterOK {
				fmt.Fprintf(&b, "; a data file's footer read: %s", Plural(t.FooterRows, "row"))
			}
			b.WriteString("\n")
		}
	}
	status := fmt.Sprintf("%s (exit %d)", r.Status, r.ExitCode())
	if r.Status == CheckEmpty {
		status = fmt.Sprintf("%s: no table is readable yet: the shares hold no tables (the provider may not have added any yet) (exit %d)", r.Status, r.ExitCode())
	}
	fmt.Fprintf(&b, "Status:   %s\n", status)
	return b.String()
}

// Plural is "1 file", "2 files", "0 files": n and the noun, with an s unless n is 1.
func Plural[N int | int64](n N, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// DurationText renders a duration in at most two units: "89d 23h", "5h 20m", "12m", "40s";
// a negative duration is rendered as its absolute value.
func DurationText(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	const day = 24 * time.Hour
	switch {
	case d >= day:
		days, hours := int64(d/day), int64((d%day)/time.Hour)
		if hours == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, hours)
	case d >= time.Hour:
		hours, mins := int64(d/time.Hour), int64((d%time.Hour)/time.Minute)
		if mins == 0 {
			return fmt.Sprintf("%dh", hours)
		}
		return fmt.Sprintf("%dh %dm", hours, mins)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	default:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
}

// String is a one-line summary.
func (r CheckReport) String() string {
	bad := 0
	for _, t := range r.Tables {
		if !t.OK() {
			bad++
		}
	}
	return fmt.Sprintf("check of %s: %s (%s, %s, %d unreadable)", r.Endpoint, r.Status, Plural(len(r.Shares), "share"), Plural(len(r.Tables), "table"), bad)
}

// MarshalJSON fills Exit before encoding.
func (r CheckReport) MarshalJSON() ([]byte, error) {
	type plain CheckReport
	p := plain(r)
	p.Exit = r.ExitCode()
	if p.Shares == nil {
		p.Shares = []ShareReport{}
	}
	if p.Tables == nil {
		p.Tables = []TableReport{}
	}
	return json.Marshal(p)
}

// Check tests what a credential can do: whether the server accepts the token, how long it
// lasts, which shares, schemas and tables it reaches, and for each table (all, or those in
// opts.Tables) its version, its metadata, and one data file's Parquet footer (fetched with
// [reader.ReadFooter]: ranged GETs with client.HTTPClient() and the client's retry policy, so
// the signed URL gets no Authorization header).
//
// An expired token is reported without sending a request. A rejected token (HTTP 401/403 on
// the share listing) is a report, not an error; Check returns an error only when the server
// cannot be asked at all (unreachable, 5xx after retries, interrupted).
func Check(ctx context.Context, client *sharing.Client, opts CheckOptions) (*CheckReport, error) {
	if client == nil {
		return nil, errors.New("check: no client given")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	warn := opts.WarnExpiry
	if warn == 0 {
		warn = DefaultExpiryWarning
	}
	par := opts.Parallel
	if par <= 0 {
		par = DefaultCheckParallel
	}
	p := client.Profile()
	text := opts.ErrorText
	if text == nil {
		text = error.Error
	}
	describe := func(err error) string { return scrubText(text(err), p) }
	r := &CheckReport{Endpoint: scrubText(client.Endpoint(), p), Shares: []ShareReport{}, Tables: []TableReport{}}
	if warn > 0 {
		r.WarnExpirySeconds = int64(warn / time.Second)
	}
	expiring := false
	if p != nil && p.HasExpiry() {
		r.ExpirationTime = p.ExpirationTime.UTC()
		left := int64(p.ExpirationTime.Sub(now()) / time.Second)
		r.ExpiresInSeconds = &left
		if err := p.CheckExpiry(now()); err != nil {
			r.Expired = true
			r.Error = describe(err)
			r.finish(false)
			return r, nil
		}
		expiring = warn > 0 && p.ExpirationTime.Sub(now()) <= warn
	}

	shares, err := client.ListShares(ctx)
	if err != nil {
		switch {
		case errors.Is(err, protocol.ErrTokenExpired):
			r.Expired = true
			r.Error = describe(err)
			r.finish(false)
			return r, nil
		case errors.Is(err, protocol.ErrUnauthorized), errors.Is(err, protocol.ErrForbidden):
			r.Error = describe(err)
			r.finish(false)
			return r, nil
		}
		return nil, fmt.Errorf("check %s: %w", r.Endpoint, err)
	}
	r.TokenAccepted = true

	// Shares: schemas and tables, in parallel.
	r.Shares = make([]ShareReport, len(shares))
	listed := make([][]protocol.TableInfo, len(shares))
	runBounded(ctx, len(shares), par, func(i int) {
		sr := ShareReport{Name: shares[i].Name, Schemas: []string{}}
		schemas, err := client.ListSchemas(ctx, shares[i].Name)
		if err != nil {
			sr.Error = "list schemas: " + describe(err)
			r.Shares[i] = sr
			return
		}
		for _, s := range schemas {
			sr.Schemas = append(sr.Schemas, s.Name)
		}
		tables, err := client.ListAllTables(ctx, shares[i].Name)
		if err != nil {
			sr.Error = "list tables: " + describe(err)
			r.Shares[i] = sr
			return
		}
		sr.Tables = len(tables)
		listed[i] = tables
		r.Shares[i] = sr
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	targets := opts.Tables
	if len(targets) == 0 {
		for _, ts := range listed {
			for _, t := range ts {
				targets = append(targets, t.Table())
			}
		}
		sort.Slice(targets, func(i, j int) bool { return targets[i].String() < targets[j].String() })
	}
	r.Tables = make([]TableReport, len(targets))
	runBounded(ctx, len(targets), par, func(i int) {
		r.Tables[i] = checkTable(ctx, client, targets[i], describe)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.finish(expiring)
	return r, nil
}

// runBounded runs fn(0..n-1) with at most par at once, stopping early when ctx ends.
func runBounded(ctx context.Context, n, par int, fn func(i int)) {
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

// checkTable reads one table's version, metadata and one data file's footer.
func checkTable(ctx context.Context, client *sharing.Client, t protocol.Table, describe func(error) string) TableReport {
	tr := TableReport{Table: t, Version: -1, PartitionColumns: []string{}}
	fail := func(what string, err error) TableReport {
		tr.Error = what + ": " + describe(err)
		return tr
	}
	v, err := client.TableVersion(ctx, t, "")
	if err != nil {
		return fail("table version", err)
	}
	tr.Version = v
	md, err := client.Metadata(ctx, t, protocol.MetadataOptions{})
	if err != nil {
		return fail("metadata", err)
	}
	tr.Format = string(md.Format)
	tr.FileFormat = md.Metadata.Format.Provider
	if md.Metadata.PartitionColumns != nil {
		tr.PartitionColumns = append([]string{}, md.Metadata.PartitionColumns...)
	}
	schema, err := md.Metadata.Schema()
	if err != nil {
		return fail("schema", err)
	}
	tr.Columns = len(schema.Fields)
	tr.NumFiles, tr.Size = md.NumFiles, md.Size

	one, maxFiles := int64(1), 1
	res, err := client.Query(ctx, t, protocol.QueryRequest{LimitHint: &one, MaxFiles: &maxFiles, SinglePage: true})
	if err != nil {
		return fail("query", err)
	}
	var file *protocol.File
	for i := range res.Files {
		if res.Files[i].Kind == protocol.FileAdd && res.Files[i].URL != "" {
			file = &res.Files[i]
			break
		}
	}
	if file == nil {
		if tr.NumFiles == nil {
			zero := int64(0)
			tr.NumFiles = &zero
		}
		return tr // a table without data files is fine
	}
	fm, err := reader.ReadFooter(ctx, client, *file)
	if err != nil {
		tr.Error = fmt.Sprintf("data file %s: %s", fileLabel(file), describe(err))
		return tr
	}
	tr.FooterOK = true
	tr.FooterRows = fm.NumRows
	if fm.Schema != nil && fm.Schema.Root() != nil {
		tr.FooterColumns = fm.Schema.Root().NumFields()
	}
	return tr
}

// fileLabel names a data file without its signed URL.
func fileLabel(f *protocol.File) string {
	if f.ID != "" {
		return f.ID
	}
	if u, err := url.Parse(f.URL); err == nil {
		return u.Host + u.Path
	}
	return "(unnamed)"
}

var urlQueryStrip = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#"'<>]*)\?[^\s#"'<>]*`)

// scrubText removes URL query strings and the profile's secrets from text for the report.
func scrubText(s string, p *sharing.Profile) string {
	s = urlQueryStrip.ReplaceAllString(s, "$1")
	if p != nil {
		s = secret.Redact(s, p.BearerToken, p.ClientSecret, p.Password)
	}
	return s
}
