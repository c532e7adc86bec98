package redact

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURL(t *testing.T) {
	assert.Equal(t, "https://h/p", URL("https://user:pw@h/p?sig=1#frag"))
	assert.Equal(t, "/shares/x", URL("/shares/x?pageToken=t"))
	assert.Equal(t, "s3://b/k", URL("s3://b/k?credential=c"))
}

func TestText(t *testing.T) {
	assert.Equal(t, "a b", Text("a\n\x00b", 100))
	assert.Equal(t, "abc…", Text("abcdef", 3))
	assert.Equal(t, "see https://x/y?REDACTED and s3://b/k?REDACTED", Text("see https://x/y?a=1&b=2 and s3://b/k?c=3", 200))
}

func TestErr(t *testing.T) {
	base := errors.New(`Get "https://h/f.parquet?X-Amz-Signature=abc": connection reset`)
	err := Err(base)
	assert.Equal(t, `Get "https://h/f.parquet?REDACTED": connection reset`, err.Error())
	assert.ErrorIs(t, err, base, "still unwraps to the original")
	plain := errors.New("no URL here")
	assert.Same(t, plain, Err(plain), "an error without a query string is returned as is")
}
