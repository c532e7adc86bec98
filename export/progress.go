package export

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Progress receives the progress of a run. Run calls Start once before the first record, Add
// after each non-empty source record and once more when the last files are finished, and
// Finish once at the end, also when the run fails. All calls come from the goroutine that
// called Run.
type Progress interface {
	// Start gives the totals the source announced (TotalsHint); -1 means unknown.
	Start(totalRows, totalBytes int64)
	// Add reports what was done since the previous call: rows written, output bytes written,
	// and output files finished.
	Add(rows, bytes int64, filesDone int)
	// Finish ends the display.
	Finish()
}

// InputFiles is implemented by a Progress that also shows how many of the source's input files
// (the table's data files) are done. Run calls Files after Add when the source reports file
// boundaries (FileBoundaries): done is the number of input files read completely, total the
// number the read covers.
type InputFiles interface {
	Files(done, total int)
}

// NoProgress is a Progress that shows nothing.
type NoProgress struct{}

func (NoProgress) Start(int64, int64)    {}
func (NoProgress) Add(int64, int64, int) {}
func (NoProgress) Finish()               {}

// TerminalProgress returns a progress bar that draws on f when f is a terminal, and a no-op
// Progress otherwise (a pipe, a file, a CI log), so redirected stderr stays clean.
func TerminalProgress(f *os.File) Progress {
	if f == nil || !term.IsTerminal(int(f.Fd())) {
		return NoProgress{}
	}
	return NewBar(f)
}

// barInterval is the shortest time between two redraws of the bar.
const barInterval = 100 * time.Millisecond

// Bar is a one-line progress display: files, rows, output bytes, throughput and, when the
// source announced its row count, percent done and the time left. It redraws the line (with a
// carriage return) at most every 100 ms, when Add is called: a source that blocks for a long
// time leaves the line unchanged meanwhile.
type Bar struct {
	w          io.Writer
	now        func() time.Time
	start      time.Time
	last       time.Time
	totalRows  int64
	rows       int64
	bytes      int64
	files      int // output files finished
	inDone     int // input files read
	inTotal    int // input files of the read; -1 when the source does not say
	drawn      bool
	lastLength int
}

// NewBar returns a Bar that draws on w, whatever w is.
func NewBar(w io.Writer) *Bar { return &Bar{w: w, now: time.Now, totalRows: -1, inTotal: -1} }

// Start begins the display; only totalRows is used (input bytes do not predict output bytes).
func (b *Bar) Start(totalRows, _ int64) {
	b.start = b.now()
	b.totalRows = totalRows
}

// Add counts progress and redraws when the last draw is old enough.
func (b *Bar) Add(rows, bytes int64, filesDone int) {
	b.rows += rows
	b.bytes += bytes
	b.files += filesDone
	if now := b.now(); !b.drawn || now.Sub(b.last) >= barInterval {
		b.draw(now)
	}
}

// Files records the input files read so far; the bar shows them as "3/12 files" instead of
// the output files finished.
func (b *Bar) Files(done, total int) { b.inDone, b.inTotal = done, total }

// Finish draws the final numbers and ends the line.
func (b *Bar) Finish() {
	b.draw(b.now())
	fmt.Fprint(b.w, "\n")
}

func (b *Bar) draw(now time.Time) {
	b.last, b.drawn = now, true
	line := b.Line(now.Sub(b.start))
	pad := ""
	if n := b.lastLength - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	b.lastLength = len(line)
	fmt.Fprint(b.w, "\r"+line+pad)
}

// Line renders the progress after elapsed time.
func (b *Bar) Line(elapsed time.Duration) string {
	var sb strings.Builder
	secs := elapsed.Seconds()
	if b.totalRows > 0 {
		done := min(float64(b.rows)/float64(b.totalRows), 1)
		const width = 20
		fill := int(done * width)
		fmt.Fprintf(&sb, "[%s%s] %3.0f%% ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done*100)
	}
	if b.inTotal >= 0 {
		fmt.Fprintf(&sb, "%s, %s/%s, %s", Plural(b.rows, "row"), groupDigits(int64(b.inDone)), Plural(int64(b.inTotal), "file"), HumanBytes(b.bytes))
	} else {
		fmt.Fprintf(&sb, "%s, %s, %s", Plural(b.rows, "row"), Plural(int64(b.files), "file"), HumanBytes(b.bytes))
	}
	if secs > 0 {
		fmt.Fprintf(&sb, ", %s rows/s, %s/s", groupDigits(int64(float64(b.rows)/secs)), HumanBytes(int64(float64(b.bytes)/secs)))
	}
	if b.totalRows > 0 && b.rows > 0 && b.rows < b.totalRows && secs > 0 {
		left := time.Duration(float64(b.totalRows-b.rows) / (float64(b.rows) / secs) * float64(time.Second))
		fmt.Fprintf(&sb, ", ETA %s", left.Round(time.Second))
	}
	return sb.String()
}
