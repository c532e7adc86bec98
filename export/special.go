package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// An output path that exists and is not a regular file or a directory is never replaced (a
// temporary file renamed over /dev/null, a FIFO or a socket would destroy it). What OpenSink does
// with it, by what the path is:
//   - a FIFO or a character device (/dev/null, a terminal), also behind a symbolic link: written
//     as a stream, like standard output: no temporary file, no rename, no --overwrite needed
//     (nothing is replaced);
//   - /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N: the process's own descriptor,
//     whatever it is (a pipe, a terminal, a file the shell opened), written as a stream
//     (standard output and error through os.Stdout and os.Stderr, so an append is kept);
//   - a symbolic link to a regular file: the file it points to is the output (replaced only
//     with Overwrite, the link is kept);
//   - anything else (a socket, a block device, a link to nothing or to one of those): refused,
//     with or without Overwrite.

// ErrSpecialFile is returned (wrapped) by OpenSink for an output that is neither a regular file,
// a directory, nor something written as a stream.
var ErrSpecialFile = errors.New("output is not a regular file")

// FileStreamSink is a StreamSink on a file OpenSink opened (a FIFO, a device, a descriptor).
// Close closes the file.
type FileStreamSink struct {
	*StreamSink
	f *os.File
}

// Close closes the file.
func (s *FileStreamSink) Close() error { return s.f.Close() }

// File returns the open file (to ask, for example, whether it is a terminal).
func (s *FileStreamSink) File() *os.File { return s.f }

// openSpecial opens output as a stream when it is one of the special files above; ok is false
// for a path that does not exist, a regular file or a directory (the caller's usual path), and
// resolved is then the path to write (the target of a symbolic link to a regular file).
func openSpecial(output string) (sink Sink, resolved string, ok bool, err error) {
	if fd, isFD := descriptorPath(output); isFD {
		switch fd {
		case 1:
			return &StreamSink{W: os.Stdout, Label: output}, "", true, nil
		case 2:
			return &StreamSink{W: os.Stderr, Label: output}, "", true, nil
		}
		// Another descriptor: opened again by its path (the system gives the same file).
		f, err := os.OpenFile(output, os.O_WRONLY, 0)
		if err != nil {
			return nil, "", true, fmt.Errorf("open %s for writing: %w", output, err)
		}
		return &FileStreamSink{StreamSink: &StreamSink{W: f, Label: output}, f: f}, "", true, nil
	}
	lfi, err := os.Lstat(output)
	if err != nil || lfi.Mode().IsRegular() || lfi.IsDir() {
		return nil, output, false, nil // missing: created; regular or directory: as usual
	}
	fi := lfi
	if lfi.Mode()&fs.ModeSymlink != 0 {
		if fi, err = os.Stat(output); err != nil {
			return nil, "", true, fmt.Errorf("%w: %s is a symbolic link to nothing (%v): remove it or choose another output", ErrSpecialFile, output, err)
		}
		if fi.Mode().IsRegular() {
			target, err := filepath.EvalSymlinks(output)
			if err != nil {
				return nil, "", true, fmt.Errorf("resolve the symbolic link %s: %w", output, err)
			}
			return nil, target, false, nil
		}
		if fi.IsDir() {
			return nil, output, false, nil
		}
	}
	m := fi.Mode()
	if m&fs.ModeNamedPipe != 0 || m&fs.ModeCharDevice != 0 {
		f, err := os.OpenFile(output, os.O_WRONLY, 0)
		if err != nil {
			return nil, "", true, fmt.Errorf("open %s for writing: %w", output, err)
		}
		return &FileStreamSink{StreamSink: &StreamSink{W: f, Label: output}, f: f}, "", true, nil
	}
	return nil, "", true, fmt.Errorf("%w: %s is a %s: deltashare writes regular files (an existing one is replaced only with --overwrite), FIFOs and character devices (written as streams); choose another output",
		ErrSpecialFile, output, fileKind(m))
}

// descriptorPath recognises the paths of the process's own descriptors.
func descriptorPath(p string) (int, bool) {
	switch p {
	case "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if rest, ok := strings.CutPrefix(p, dir); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, true
			}
		}
	}
	return 0, false
}

// fileKind names a file mode for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeIrregular != 0:
		return "file of an unknown kind"
	}
	return "special file"
}
