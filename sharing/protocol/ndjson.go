package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/deltashare/deltashare/internal/redact"

	"github.com/deltashare/deltashare/sharing/delta"
)

// Item is one decoded line of a metadata, query or change-data response. Exactly one of
// Protocol, Metadata, File and EndStream is set; a line of an unknown kind decodes to an Item
// with none set (see IsZero), which readers skip.
type Item struct {
	// Line is the 1-based line number in the response body it came from (0 if not decoded).
	Line int
	// Format is the response format the line is written in; "" for an EndStreamAction, which
	// is the same in both.
	Format    ResponseFormat
	Protocol  *ProtocolAction
	Metadata  *MetadataAction
	File      *File
	EndStream *EndStream
}

// IsZero reports whether the item holds no action (an ignored line).
func (it Item) IsZero() bool {
	return it.Protocol == nil && it.Metadata == nil && it.File == nil && it.EndStream == nil
}

// String describes the item without secrets.
func (it Item) String() string {
	switch {
	case it.Protocol != nil:
		return fmt.Sprintf("Protocol{minReaderVersion=%d readerFeatures=%v}", it.Protocol.Protocol.MinReaderVersion, it.Protocol.Protocol.ReaderFeatures)
	case it.Metadata != nil:
		return it.Metadata.String()
	case it.File != nil:
		return it.File.String()
	case it.EndStream != nil:
		return it.EndStream.String()
	}
	return "Item{}"
}

// LineError reports a response line that could not be decoded. It names the line number, never
// the line's content (which may hold signed URLs and tokens). It unwraps to ErrProtocol.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("response line %d is malformed: %s", e.Line, e.Reason)
}

// Unwrap returns ErrProtocol.
func (e *LineError) Unwrap() error { return ErrProtocol }

// rawLine splits a line into its wrapper fields, and holds the fields of a bare EndStreamAction.
type rawLine struct {
	Protocol        json.RawMessage `json:"protocol"`
	MetaData        json.RawMessage `json:"metaData"`
	File            json.RawMessage `json:"file"`
	Add             json.RawMessage `json:"add"`
	CDF             json.RawMessage `json:"cdf"`
	Remove          json.RawMessage `json:"remove"`
	EndStreamAction json.RawMessage `json:"endStreamAction"`

	RefreshToken              *string `json:"refreshToken"`
	NextPageToken             *string `json:"nextPageToken"`
	MinURLExpirationTimestamp *int64  `json:"minUrlExpirationTimestamp"`
	ErrorMessage              *string `json:"errorMessage"`
	HTTPStatusErrorCode       *int    `json:"httpStatusErrorCode"`
}

func present(m json.RawMessage) bool { return len(m) > 0 && string(m) != "null" }

// DecodeLine decodes one NDJSON line of either response format. Blank lines and lines of
// unknown kinds give a zero Item and no error. Errors are [*LineError] with Line 0.
func DecodeLine(line []byte) (Item, error) {
	it, err := decodeLine(line)
	if err != nil {
		return Item{}, &LineError{Reason: err.Error()}
	}
	return it, nil
}

func decodeLine(line []byte) (Item, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Item{}, nil
	}
	if line[0] != '{' {
		return Item{}, errors.New("not a JSON object")
	}
	var raw rawLine
	if err := json.Unmarshal(line, &raw); err != nil {
		return Item{}, errors.New(DescribeJSONError(err))
	}
	n := 0
	for _, m := range []json.RawMessage{raw.Protocol, raw.MetaData, raw.File, raw.Add, raw.CDF, raw.Remove, raw.EndStreamAction} {
		if present(m) {
			n++
		}
	}
	if n > 1 {
		return Item{}, errors.New("more than one action in one line")
	}
	var it Item
	switch {
	case present(raw.Protocol):
		var p struct {
			DeltaProtocol    *delta.Protocol `json:"deltaProtocol"`
			Version          *int64          `json:"version"`
			MinReaderVersion *int            `json:"minReaderVersion"`
		}
		if err := unmarshalPart(raw.Protocol, &p, "protocol"); err != nil {
			return Item{}, err
		}
		if p.DeltaProtocol != nil {
			it.Format = FormatDelta
			it.Protocol = &ProtocolAction{Protocol: *p.DeltaProtocol, Version: p.Version}
		} else {
			it.Format = FormatParquet
			it.Protocol = &ProtocolAction{}
			if p.MinReaderVersion != nil {
				it.Protocol.Protocol.MinReaderVersion = *p.MinReaderVersion
			}
		}
	case present(raw.MetaData):
		var m struct {
			ParquetMetadata
			DeltaMetadata *delta.Metadata `json:"deltaMetadata"`
		}
		if err := unmarshalPart(raw.MetaData, &m, "metaData"); err != nil {
			return Item{}, err
		}
		if m.DeltaMetadata != nil {
			it.Format = FormatDelta
			it.Metadata = fromDeltaMetadata(&DeltaMetadataWrapper{DeltaMetadata: *m.DeltaMetadata, Version: m.Version, TableDetails: m.TableDetails})
		} else {
			it.Format = FormatParquet
			it.Metadata = fromParquetMetadata(&m.ParquetMetadata)
		}
	case present(raw.File):
		var f struct {
			ParquetFile
			DeletionVectorFileID string             `json:"deletionVectorFileId"`
			DeltaSingleAction    *DeltaSingleAction `json:"deltaSingleAction"`
		}
		if err := unmarshalPart(raw.File, &f, "file"); err != nil {
			return Item{}, err
		}
		if f.DeltaSingleAction != nil {
			it.Format = FormatDelta
			file, err := fromDeltaFile(&DeltaFile{
				ID: f.ID, DeletionVectorFileID: f.DeletionVectorFileID, Version: f.Version,
				Timestamp: f.Timestamp, ExpirationTimestamp: f.ExpirationTimestamp,
				DeltaSingleAction: *f.DeltaSingleAction,
			})
			if err != nil {
				return Item{}, err
			}
			it.File = file
		} else {
			it.Format = FormatParquet
			it.File = fromParquetFile(FileAdd, &f.ParquetFile)
		}
	case present(raw.Add), present(raw.CDF), present(raw.Remove):
		kind, data := FileAdd, raw.Add
		if present(raw.CDF) {
			kind, data = FileCDF, raw.CDF
		} else if present(raw.Remove) {
			kind, data = FileRemove, raw.Remove
		}
		var f ParquetFile
		if err := unmarshalPart(data, &f, string(kind)); err != nil {
			return Item{}, err
		}
		it.Format = FormatParquet
		it.File = fromParquetFile(kind, &f)
	case present(raw.EndStreamAction):
		var es EndStream
		if err := unmarshalPart(raw.EndStreamAction, &es, "endStreamAction"); err != nil {
			return Item{}, err
		}
		it.EndStream = &es
	case raw.RefreshToken != nil || raw.NextPageToken != nil || raw.MinURLExpirationTimestamp != nil || raw.ErrorMessage != nil:
		// The bare form of an EndStreamAction: its fields at the top level.
		es := EndStream{MinURLExpirationTimestamp: raw.MinURLExpirationTimestamp, HTTPStatusErrorCode: raw.HTTPStatusErrorCode}
		if raw.RefreshToken != nil {
			es.RefreshToken = *raw.RefreshToken
		}
		if raw.NextPageToken != nil {
			es.NextPageToken = *raw.NextPageToken
		}
		if raw.ErrorMessage != nil {
			es.ErrorMessage = *raw.ErrorMessage
		}
		it.EndStream = &es
	}
	if it.File != nil && it.File.URL == "" {
		return Item{}, fmt.Errorf("%s file %q has no url", it.File.Kind, redact.Text(it.File.ID, 100))
	}
	return it, nil
}

func unmarshalPart(data []byte, v any, what string) error {
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("%s is not a JSON object", what)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %s", what, DescribeJSONError(err))
	}
	return nil
}

// DefaultMaxLineBytes bounds a response line unless a Decoder is told otherwise: a file line
// with megabytes of statistics fits; a line that never ends does not.
const DefaultMaxLineBytes = 64 << 20

// ErrLineTooLong: a response line is longer than the decoder's limit (see
// Decoder.SetMaxLineBytes). It wraps ErrProtocol.
var ErrLineTooLong = fmt.Errorf("%w: response line too long", ErrProtocol)

// Decoder reads an NDJSON response one line at a time. Lines may be long (a file's stats can
// run to megabytes), up to a limit (DefaultMaxLineBytes); only the current line is held in
// memory.
type Decoder struct {
	r       *bufio.Reader
	buf     []byte
	line    int
	err     error
	maxLine int
}

// NewDecoder returns a decoder reading r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10), maxLine: DefaultMaxLineBytes}
}

// SetMaxLineBytes bounds the length of a line (its end of line excluded); n <= 0 restores
// DefaultMaxLineBytes. A longer line ends the decoding with an error wrapping ErrLineTooLong,
// having read at most n bytes of it.
func (d *Decoder) SetMaxLineBytes(n int) {
	if n <= 0 {
		n = DefaultMaxLineBytes
	}
	d.maxLine = n
}

// Line returns the number of the last line read (1-based).
func (d *Decoder) Line() int { return d.line }

// Next returns the next item, skipping blank lines and lines of unknown kinds. It returns
// io.EOF after the last line, a [*LineError] for a malformed line, an error wrapping
// [ErrTruncated] for a last line without a line break that is not even JSON (a cut-off body),
// and the reader's error if reading fails (io.ErrUnexpectedEOF never stands for a clean end).
func (d *Decoder) Next() (Item, error) {
	for {
		if d.err != nil {
			return Item{}, d.err
		}
		line, err := d.readLine()
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			d.err = err
			return Item{}, err
		}
		d.line++
		it, derr := decodeLine(line)
		if derr != nil {
			if errors.Is(err, io.EOF) && !json.Valid(line) {
				// The body ended inside a line (no line break after it): a cut-off response,
				// not a malformed one; it is worth asking again.
				d.err = fmt.Errorf("response line %d is incomplete (the response ended inside it): %w", d.line, ErrTruncated)
				return Item{}, d.err
			}
			d.err = &LineError{Line: d.line, Reason: derr.Error()}
			return Item{}, d.err
		}
		if errors.Is(err, io.EOF) {
			d.err = io.EOF
		}
		if it.IsZero() {
			continue
		}
		it.Line = d.line
		return it, nil
	}
}

// readLine returns the next line without its end of line. At the end of the input it returns
// the last unterminated line (if any) with io.EOF.
func (d *Decoder) readLine() ([]byte, error) {
	d.buf = d.buf[:0]
	for {
		frag, err := d.r.ReadSlice('\n')
		d.buf = append(d.buf, frag...)
		if n := len(bytes.TrimRight(d.buf, "\r\n")); n > d.maxLine {
			d.buf = d.buf[:0]
			return nil, fmt.Errorf("response line %d is longer than %d bytes, the limit of a line (a server answering normally does not come near it): %w", d.line+1, d.maxLine, ErrLineTooLong)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return d.buf, err
		}
		return bytes.TrimRight(d.buf, "\r\n"), nil
	}
}

// ---------------------------------------------------------------------------------------------
// Encoding.

// Encoder writes NDJSON response lines in one response format; a server uses it to answer
// metadata, query and change-data requests.
type Encoder struct {
	w      io.Writer
	format ResponseFormat
	// DataChangeFiles selects the parquet-format wrapper of add files: `add` (answers to
	// startingVersion queries and change-data requests) when true, `file` (snapshots) when
	// false. It does not affect the delta format.
	DataChangeFiles bool
}

// NewEncoder returns an encoder writing format to w.
func NewEncoder(w io.Writer, format ResponseFormat) *Encoder {
	return &Encoder{w: w, format: format}
}

// Encode writes one item as one line.
func (e *Encoder) Encode(it Item) error {
	var (
		line []byte
		err  error
	)
	if e.format == FormatDelta {
		line, err = EncodeDeltaLine(it)
	} else {
		line, err = EncodeParquetLine(it, e.DataChangeFiles)
	}
	if err != nil {
		return err
	}
	_, err = e.w.Write(line)
	return err
}

// Protocol writes a protocol line.
func (e *Encoder) Protocol(p ProtocolAction) error { return e.Encode(Item{Protocol: &p}) }

// Metadata writes a metaData line.
func (e *Encoder) Metadata(m MetadataAction) error { return e.Encode(Item{Metadata: &m}) }

// File writes a file line.
func (e *Encoder) File(f File) error { return e.Encode(Item{File: &f}) }

// EndStream writes an EndStreamAction line (the wrapped form).
func (e *Encoder) EndStream(es EndStream) error { return e.Encode(Item{EndStream: &es}) }

// EncodeParquetLine returns it as one parquet-format line, newline included. Add files are
// wrapped as `add` when dataChange is true, as `file` otherwise.
func EncodeParquetLine(it Item, dataChange bool) ([]byte, error) {
	var l ParquetLine
	switch {
	case it.Protocol != nil:
		l.Protocol = it.Protocol.ToParquet()
	case it.Metadata != nil:
		l.MetaData = it.Metadata.ToParquet()
	case it.File != nil:
		w := it.File.ToParquet()
		switch it.File.Kind {
		case FileAdd:
			if dataChange {
				l.Add = w
			} else {
				l.File = w
			}
		case FileRemove:
			l.Remove = w
		case FileCDF:
			l.CDF = w
		default:
			return nil, fmt.Errorf("file kind %q is not add, remove or cdf", it.File.Kind)
		}
	case it.EndStream != nil:
		l.EndStreamAction = it.EndStream
	default:
		return nil, errors.New("nothing to encode: the item is empty")
	}
	return marshalLine(l)
}

// EncodeDeltaLine returns it as one delta-format line, newline included.
func EncodeDeltaLine(it Item) ([]byte, error) {
	var l DeltaLine
	switch {
	case it.Protocol != nil:
		l.Protocol = it.Protocol.ToDelta()
	case it.Metadata != nil:
		l.MetaData = it.Metadata.ToDelta()
	case it.File != nil:
		w, err := it.File.ToDelta()
		if err != nil {
			return nil, err
		}
		l.File = w
	case it.EndStream != nil:
		l.EndStreamAction = it.EndStream
	default:
		return nil, errors.New("nothing to encode: the item is empty")
	}
	return marshalLine(l)
}

// WriteLine writes v as one JSON line (HTML characters unescaped, newline appended); servers use
// it for listing pages and other single-object answers too.
func WriteLine(w io.Writer, v any) error {
	b, err := marshalLine(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func marshalLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// GoString is String, so %#v shows no secrets either.
func (it Item) GoString() string { return it.String() }
