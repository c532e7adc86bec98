package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Sink stores output objects under slash-separated names relative to its root
// ("part-00000.csv", "region=EMEA/part-00000.csv"). Names are checked with [ValidName].
//
// A local directory ([LocalSink]) and standard output ([StreamSink]) are sinks; object stores
// (through gocloud.dev/blob) fit the same interface. A sink must be safe for use by one goroutine
// at a time; Run uses it from one goroutine.
type Sink interface {
	// Create starts a new object that becomes visible under name only when it is committed.
	Create(ctx context.Context, name string) (Object, error)
	// Exists reports whether an object (or, for a file system, any entry) exists under name.
	Exists(ctx context.Context, name string) (bool, error)
	// List returns the names of the committed objects whose names start with prefix, sorted.
	// A missing root or prefix directory is an empty list, not an error.
	List(ctx context.Context, prefix string) ([]string, error)
	// Remove deletes the object under name. Removing a missing object is not an error.
	Remove(ctx context.Context, name string) error
}

// Object is an output being written. Nothing is visible under its final name until Commit.
type Object interface {
	io.Writer
	// Commit makes the object visible under its final name atomically, replacing any object
	// already there. After Commit, Write fails and Abort does nothing.
	Commit() error
	// Abort discards the object (removes its temporary file). It is idempotent.
	Abort() error
}

var errObjectDone = errors.New("export: output object is already committed or aborted")

// objectLife is the life of an Object written under a temporary name, shared by the sinks: it
// is closed once (the error of that close is kept), then committed or aborted once.
type objectLife struct {
	closed, committed, aborted bool
	closeErr                   error
}

// writeErr is the error of a write once the object is closed.
func (l *objectLife) writeErr() error {
	if l.committed || l.aborted {
		return errObjectDone
	}
	return errors.New("export: write to a closed output object")
}

// closeOnce runs finish on the first close; every close returns its error.
func (l *objectLife) closeOnce(finish func() error) error {
	if !l.closed {
		l.closed = true
		l.closeErr = finish()
	}
	return l.closeErr
}

// commitOnce closes the object with close, then runs publish, which puts it under its final
// name and marks it committed; a committed or aborted object is not committed again.
func (l *objectLife) commitOnce(close, publish func() error) error {
	if l.committed || l.aborted {
		return errObjectDone
	}
	if err := close(); err != nil {
		return err
	}
	return publish()
}

// abortOnce marks the object aborted and runs discard, unless it was committed or aborted.
func (l *objectLife) abortOnce(discard func() error) error {
	if l.committed || l.aborted {
		return nil
	}
	l.aborted = true
	return discard()
}

// Locator is implemented by sinks that can show where a name ends up, for messages and the
// summary: a local sink returns the file path. Without it the name is shown as it is.
type Locator interface {
	Location(name string) string
}

// location returns where name ends up in sink, for messages.
func location(s Sink, name string) string {
	if l, ok := s.(Locator); ok {
		return l.Location(name)
	}
	return name
}

// ValidName checks an object name: a relative, slash-separated path with no empty, "." or ".."
// element, no leading slash, no backslash and no NUL byte.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty output name")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("output name %q is absolute: names are relative to the output directory", name)
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("output name %q contains a backslash or NUL byte: use / to separate directories", name)
	case name == "." || !fs.ValidPath(name):
		return fmt.Errorf("output name %q is not a clean relative path (no empty, . or .. elements)", name)
	}
	return nil
}
