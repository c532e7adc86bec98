package export

import (
	"testing"

	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// SetLakeHook makes a Delta-format sync call f at each step of a run ("data": data files
// written; "commit": commit written; "checkpoint": checkpoint written), for kill tests.
func SetLakeHook(o *LakeOptions, f func(step string)) { o.hook = f }

// FakeS3 is fakeS3 for the external tests: an in-memory S3 on loopback with bucket "lake",
// and the query string that points s3blob at it.
func FakeS3(t *testing.T) (*s3mem.Backend, string) { return fakeS3(t) }

// SetLakeMaxOpen bounds the data files a Delta-format sync writes at once.
func SetLakeMaxOpen(o *LakeOptions, n int) { o.maxOpen = n }
