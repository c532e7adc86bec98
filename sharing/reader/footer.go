package reader

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"

	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/sharing/protocol"
)

const (
	footerTail     = 64 << 10 // the first ranged read fetches this much of the file's end
	maxFooterBytes = 64 << 20 // a larger footer is refused
)

// ReadFooter reads the Parquet footer of one data file a query returned, by ranged GETs through
// the downloader a read uses (retries, Retry-After, stall detection, servers that ignore Range),
// without downloading the rest of the file. An access check uses it to prove that a table's
// files can be read.
func ReadFooter(ctx context.Context, c *sharing.Client, f protocol.File) (*metadata.FileMetaData, error) {
	if f.Size < 12 {
		return nil, fmt.Errorf("not a Parquet file: only %d bytes long", f.Size)
	}
	const key = "footer"
	urls := newURLSet(&fileMap{files: map[string]protocol.File{key: f}}, c.Now, nil, nil)
	fe := &fetcher{hc: c.HTTPClient(), retry: c.RetryPolicy(), timeout: c.Timeout(), log: c.Logger(), urls: urls}
	return readFooterAt(&httpReaderAt{ctx: ctx, f: fe, key: key, size: f.Size})
}

// readFooterAt reads the footer of a remote file by ranged GETs: its last footerTail bytes,
// then the rest of a longer footer.
func readFooterAt(src *httpReaderAt) (*metadata.FileMetaData, error) {
	f := protocol.File{Size: src.size}
	if f.Size < 12 {
		return nil, fmt.Errorf("not a Parquet file: only %d bytes long", f.Size)
	}
	n := min(f.Size, footerTail)
	tail := make([]byte, n)
	if _, err := src.ReadAt(tail, f.Size-n); err != nil {
		return nil, footerFetchError(err)
	}
	switch string(tail[n-4:]) {
	case "PAR1":
	case "PARE":
		return nil, errors.New("the Parquet file has an encrypted footer, which deltashare cannot read")
	default:
		return nil, errors.New("not a Parquet file: the PAR1 magic bytes are missing at its end")
	}
	flen := int64(binary.LittleEndian.Uint32(tail[n-8 : n-4]))
	if flen <= 0 || flen > maxFooterBytes || flen+12 > f.Size {
		return nil, fmt.Errorf("not a valid Parquet file: footer length %d does not fit the file", flen)
	}
	if flen+8 > n {
		tail = make([]byte, flen+8)
		if _, err := src.ReadAt(tail, f.Size-flen-8); err != nil {
			return nil, footerFetchError(err)
		}
	}
	return parseFooter(tail[int64(len(tail))-8-flen : len(tail)-8])
}

// footerFetchError words a refused download for a footer read: unlike a table read, ReadFooter
// has no query to ask for new URLs, so a 403 was not retried with them.
func footerFetchError(err error) error {
	var se *statusError
	if errors.As(err, &se) && se == err && se.status == http.StatusForbidden {
		return &footerRefusedError{se}
	}
	return err
}

// footerRefusedError is a 403 of a footer read.
type footerRefusedError struct{ se *statusError }

func (e *footerRefusedError) Error() string {
	return "GET: 403 Forbidden; the pre-signed URL was refused (expired or revoked): query the table again for new URLs"
}

func (e *footerRefusedError) Unwrap() error { return e.se }

// parseFooter decodes footer metadata; a decoder panic on hostile bytes becomes an error.
func parseFooter(footer []byte) (fm *metadata.FileMetaData, err error) {
	defer func() {
		if p := recover(); p != nil {
			fm, err = nil, errors.New("the Parquet footer is corrupt")
		}
	}()
	fm, err = metadata.NewFileMetaData(footer, nil)
	if err != nil {
		return nil, errors.New("the Parquet footer is corrupt: cannot decode its metadata")
	}
	return fm, nil
}
