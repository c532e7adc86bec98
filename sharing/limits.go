package sharing

import (
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/deltashare/deltashare/sharing/protocol"
)

// listing follows one listing, query or change-data response, all its pages, against the
// client's Limits.
type listing struct {
	c     *Client
	what  string // the request, for messages
	start time.Time
	pages int
	seen  map[[sha256.Size]byte]bool // page tokens given so far (hashed: tokens may be long)
	bytes int64
}

func (c *Client) newListing(what string) *listing {
	return &listing{c: c, what: what, start: c.now(), seen: map[[sha256.Size]byte]bool{}}
}

// nextPage checks the token of the next page: not given before, within MaxPages.
func (l *listing) nextPage(token string) error {
	l.pages++
	h := sha256.Sum256([]byte(token))
	if l.seen[h] {
		return fmt.Errorf("%s: %w: the server repeated a page token (page %d); stopping an endless listing", l.what, protocol.ErrProtocol, l.pages)
	}
	if l.pages >= l.c.limits.MaxPages {
		return fmt.Errorf("%s: %w: the server is still handing out pages after %d; stopping a listing that looks endless (Limits.MaxPages raises the bound)", l.what, ErrResponseLimit, l.pages)
	}
	l.seen[h] = true
	return l.checkTime()
}

// checkTime checks that the listing is within MaxListingTime.
func (l *listing) checkTime() error {
	if d := l.c.now().Sub(l.start); d > l.c.limits.MaxListingTime {
		return fmt.Errorf("%s: %w: the response has taken %s, longer than the %s a listing may take (after %d pages, %d bytes); stopping a response that looks endless (Limits.MaxListingTime raises the bound)",
			l.what, ErrResponseLimit, d.Round(time.Second), l.c.limits.MaxListingTime, l.pages+1, l.bytes)
	}
	return nil
}

// body counts the bytes read from a page's body against MaxResponseBytes, and the time.
func (l *listing) body(r io.Reader) io.Reader { return &countingReader{l: l, r: r} }

type countingReader struct {
	l *listing
	r io.Reader
}

func (cr *countingReader) Read(p []byte) (int, error) {
	l := cr.l
	if l.bytes >= l.c.limits.MaxResponseBytes {
		return 0, fmt.Errorf("%s: %w: the response is larger than %d bytes (after %d pages); stopping a response that looks endless (Limits.MaxResponseBytes raises the bound)",
			l.what, ErrResponseLimit, l.c.limits.MaxResponseBytes, l.pages+1)
	}
	if err := l.checkTime(); err != nil {
		return 0, err
	}
	if rest := l.c.limits.MaxResponseBytes - l.bytes; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := cr.r.Read(p)
	l.bytes += int64(n)
	return n, err
}
