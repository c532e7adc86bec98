package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://container
	_ "gocloud.dev/blob/fileblob"  // file:///dir
	_ "gocloud.dev/blob/gcsblob"   // gs://bucket
	_ "gocloud.dev/blob/s3blob"    // s3://bucket
	"gocloud.dev/gcerrors"
)

// BlobTempDir is the key prefix (below the sink's prefix) under which a BlobSink writes objects
// before they are committed: "<prefix>_deltashare_tmp/<random>/<name>". The leading underscore
// hides it from Spark, Hive and most readers. A killed run can leave objects there; they are
// never read as output. The next sync run removes those of its shard's part files and state;
// those of an export (or a sync that never ran again) can be deleted when no run is active (a
// lifecycle rule that expires them after a day does it).
const BlobTempDir = "_deltashare_tmp/"

// blobSchemes are the URL schemes OpenSink hands to gocloud.dev/blob.
var blobSchemes = map[string]bool{"s3": true, "gs": true, "azblob": true, "file": true}

// IsBlobURL reports whether output is an object store URL that OpenSink accepts
// (s3://, gs://, azblob://, file://).
func IsBlobURL(output string) bool {
	scheme, _, ok := strings.Cut(output, "://")
	return ok && blobSchemes[strings.ToLower(scheme)]
}

// BlobSink writes objects to a bucket of an object store through gocloud.dev/blob, under a key
// prefix.
//
// An object store has no rename, so Create uploads to a temporary key under BlobTempDir, and
// Commit copies it to its final key (a server-side copy; the final key appears at once, whole)
// and deletes the temporary one. Abort cancels the upload or deletes the temporary object. So a
// run's final keys appear only in its commit phase, after every part was uploaded, as with a
// local directory; the state object of a sync is written the same way, last.
//
// Credentials come from each cloud's standard environment: AWS (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE, instance and pod roles), Google (application
// default credentials, GOOGLE_APPLICATION_CREDENTIALS), Azure (AZURE_STORAGE_ACCOUNT with
// AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or the default Azure credential chain). URL
// query parameters configure the driver (for S3-compatible stores:
// ?endpoint=https://host&use_path_style=true&region=us-east-1).
//
// A BlobSink is safe for concurrent use.
type BlobSink struct {
	Bucket *blob.Bucket
	Prefix string // key prefix of the sink's root: "" or ending in "/"
	Base   string // display form of the root, e.g. "s3://bucket/dir" (no query string)
	tmp    string // temporary prefix of this sink: Prefix + BlobTempDir + random + "/"
}

var (
	_ Sink    = (*BlobSink)(nil)
	_ Locator = (*BlobSink)(nil)
)

// NewBlobSink returns a sink writing under prefix ("" or ending in "/") of bucket; base is how
// messages show the root.
func NewBlobSink(bucket *blob.Bucket, prefix, base string) *BlobSink {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return &BlobSink{Bucket: bucket, Prefix: prefix, Base: strings.TrimSuffix(base, "/"),
		tmp: prefix + BlobTempDir + hex.EncodeToString(rnd[:]) + "/"}
}

// OpenBlobSink opens the object store URL output (s3://bucket/dir/, gs://..., azblob://...,
// file:///dir/) and returns a sink and the Output name for Run: "" for a directory (a URL ending
// in "/", the bucket itself, or a prefix that already holds objects), else the object's base
// name, with the sink rooted at its parent prefix.
func OpenBlobSink(ctx context.Context, output string) (*BlobSink, string, error) {
	u, err := url.Parse(output)
	if err != nil || !blobSchemes[strings.ToLower(u.Scheme)] {
		return nil, "", fmt.Errorf("output %q is not an object store URL: use s3://bucket/dir/, gs://bucket/dir/, azblob://container/dir/ or file:///dir/", redactQuery(output))
	}
	scheme := strings.ToLower(u.Scheme)
	keyPath := u.Path
	q := u.Query()
	if scheme == "file" {
		// fileblob roots the bucket at the path: keep only the directory in the bucket URL.
		dir, name := keyPath, ""
		if !strings.HasSuffix(dir, "/") {
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				dir, name = path.Dir(dir), path.Base(dir)
			}
		}
		q.Set("create_dir", "true")
		q.Set("no_tmp_dir", "true")
		bu := url.URL{Scheme: "file", Host: u.Host, Path: dir, RawQuery: q.Encode()}
		b, err := blob.OpenBucket(ctx, bu.String())
		if err != nil {
			return nil, "", fmt.Errorf("open %s: %w", redactQuery(output), err)
		}
		return NewBlobSink(b, "", "file://"+u.Host+strings.TrimSuffix(dir, "/")), name, nil
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("output %q names no bucket: write %s://BUCKET/dir/", redactQuery(output), scheme)
	}
	bu := url.URL{Scheme: scheme, Host: u.Host, RawQuery: u.RawQuery}
	b, err := blob.OpenBucket(ctx, bu.String())
	if err != nil {
		return nil, "", fmt.Errorf("open bucket %s://%s: %w", scheme, u.Host, err)
	}
	key := strings.TrimPrefix(keyPath, "/")
	root := scheme + "://" + u.Host
	if key == "" || strings.HasSuffix(key, "/") {
		return NewBlobSink(b, key, root+"/"+key), "", nil
	}
	// An existing "directory" (objects under key/) is a directory output.
	it := b.List(&blob.ListOptions{Prefix: key + "/"})
	if _, err := it.Next(ctx); err == nil {
		return NewBlobSink(b, key+"/", root+"/"+key), "", nil
	} else if err != io.EOF {
		_ = b.Close()
		return nil, "", fmt.Errorf("list %s/%s/: %w", root, key, err)
	}
	dir, name := path.Split(key)
	return NewBlobSink(b, dir, root+"/"+dir), name, nil
}

// redactQuery drops a URL's query string (it may hold a SAS token or other secrets).
func redactQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i] + "?..."
	}
	return s
}

// Close closes the bucket.
func (s *BlobSink) Close() error { return s.Bucket.Close() }

// Location returns the URL of name (without query string).
func (s *BlobSink) Location(name string) string { return s.Base + "/" + name }

// Create starts an upload to a temporary key.
func (s *BlobSink) Create(ctx context.Context, name string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	tmp := s.tmp + name
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w, err := s.Bucket.NewWriter(wctx, tmp, &blob.WriterOptions{ContentType: ct})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create %s: %w", s.Location(name), err)
	}
	return &blobObject{s: s, ctx: ctx, cancel: cancel, w: w, name: name, tmp: tmp, final: s.Prefix + name}, nil
}

// Exists reports whether an object is stored under name.
func (s *BlobSink) Exists(ctx context.Context, name string) (bool, error) {
	if err := ValidName(name); err != nil {
		return false, err
	}
	ok, err := s.Bucket.Exists(ctx, s.Prefix+name)
	if err != nil {
		return false, fmt.Errorf("check %s: %w", s.Location(name), err)
	}
	return ok, nil
}

// List returns the names of the committed objects under prefix, sorted. Temporary objects are
// left out.
func (s *BlobSink) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := s.listKeys(ctx, s.Prefix+prefix, s.Location(prefix), func(key string) bool {
		return !strings.HasPrefix(strings.TrimPrefix(key, s.Prefix), BlobTempDir)
	})
	var names []string
	for _, k := range keys {
		names = append(names, strings.TrimPrefix(k, s.Prefix))
	}
	return names, err
}

// listKeys returns the keys of the objects (not folders) under the bucket key prefix that keep
// keeps, sorted; loc is the location of prefix, for errors.
func (s *BlobSink) listKeys(ctx context.Context, prefix, loc string, keep func(key string) bool) ([]string, error) {
	it := s.Bucket.List(&blob.ListOptions{Prefix: prefix})
	var keys []string
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", loc, err)
		}
		if !obj.IsDir && keep(obj.Key) {
			keys = append(keys, obj.Key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Remove deletes the object under name; a missing object is not an error.
func (s *BlobSink) Remove(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := s.Bucket.Delete(ctx, s.Prefix+name); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("remove %s: %w", s.Location(name), err)
	}
	return nil
}

// ReadObject returns the content of the object under name; a missing object is an error that
// wraps os.ErrNotExist.
func (s *BlobSink) ReadObject(ctx context.Context, name string) ([]byte, error) {
	b, err := s.Bucket.ReadAll(ctx, s.Prefix+name)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("%s: %w", s.Location(name), os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.Location(name), err)
	}
	return b, nil
}

// CreateExclusive writes data under name unless an object is already there (a conditional
// write where the store supports it: S3 If-None-Match, GCS generation match, Azure If-None-Match,
// fileblob). It reports whether it wrote.
func (s *BlobSink) CreateExclusive(ctx context.Context, name string, data []byte) (bool, error) {
	if err := ValidName(name); err != nil {
		return false, err
	}
	err := s.Bucket.WriteAll(ctx, s.Prefix+name, data, &blob.WriterOptions{ContentType: "application/json", IfNotExist: true})
	if err == nil {
		return true, nil
	}
	if gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return false, nil
	}
	return false, fmt.Errorf("write %s: %w", s.Location(name), err)
}

// blobObject is an upload to a temporary key that Commit copies to the final key.
type blobObject struct {
	s      *BlobSink
	ctx    context.Context
	cancel context.CancelFunc
	w      *blob.Writer // nil once closed
	name   string
	tmp    string
	final  string
	objectLife
}

func (o *blobObject) Write(p []byte) (int, error) {
	if o.w == nil {
		return 0, o.writeErr()
	}
	return o.w.Write(p)
}

// Close finishes the upload to the temporary key without making the object visible.
func (o *blobObject) Close() error {
	return o.closeOnce(func() error {
		err := o.w.Close()
		o.w = nil
		if err != nil {
			return fmt.Errorf("upload %s: %w", o.s.Location(o.name), err)
		}
		return nil
	})
}

func (o *blobObject) Commit() error {
	return o.commitOnce(o.Close, func() error {
		ctx := context.WithoutCancel(o.ctx)
		if err := o.s.Bucket.Copy(ctx, o.final, o.tmp, nil); err != nil {
			return fmt.Errorf("copy %s to its final name: %w", o.s.Location(o.name), err)
		}
		o.committed = true
		o.cancel()
		// The final object is in place; a temporary object left behind is only garbage.
		_ = o.s.Bucket.Delete(ctx, o.tmp)
		return nil
	})
}

func (o *blobObject) Abort() error {
	return o.abortOnce(func() error {
		if !o.closed {
			o.closed = true
			o.cancel() // a cancelled upload writes nothing
			_ = o.w.Close()
			o.w = nil
			return nil
		}
		o.cancel()
		if err := o.s.Bucket.Delete(context.WithoutCancel(o.ctx), o.tmp); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return fmt.Errorf("remove temporary object of %s: %w", o.s.Location(o.name), err)
		}
		return nil
	})
}

// tempObjects returns the temporary objects under BlobTempDir, of any run of this or another
// process, whose names (below the random folder of their run) match: what runs killed before a
// commit left. Its own temporary objects are left out. keys are bucket keys.
func (s *BlobSink) tempObjects(ctx context.Context, match func(name string) bool) (keys []string, err error) {
	root := s.Prefix + BlobTempDir
	return s.listKeys(ctx, root, s.Location(BlobTempDir), func(key string) bool {
		if strings.HasPrefix(key, s.tmp) {
			return false
		}
		_, name, ok := strings.Cut(strings.TrimPrefix(key, root), "/")
		return ok && match(name)
	})
}

// removeKey deletes the object under a bucket key (a temporary object); a missing one is not an
// error. It returns the key's location.
func (s *BlobSink) removeKey(ctx context.Context, key string) (string, error) {
	loc := s.Base + "/" + strings.TrimPrefix(key, s.Prefix)
	if err := s.Bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return loc, fmt.Errorf("remove %s: %w", loc, err)
	}
	return loc, nil
}
