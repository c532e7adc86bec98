// Package atomicfile writes files so that nobody ever sees a half-written file under the
// destination's name. It has one atomic write and one exclusive secret write:
//
//   - [Write] (and its shorthand [WriteFile]) replaces a file: the data goes to a temporary
//     file beside the destination, which gets the given mode, is fsynced and renamed over the
//     destination, and the directory is fsynced. A symlinked destination is followed: its
//     target is replaced and the link kept. With [Options.NoReplace] the write fails instead
//     when the destination exists, and the check is atomic where the file system has hard
//     links. On any error the temporary file is removed and the destination is untouched.
//   - [WriteSecret] creates a new file that must not exist, with mode 0600, writes and fsyncs
//     it (and its directory); on any error the partial file is removed.
//
// Errors are *fs.PathError values naming the destination, so they match fs.ErrExist,
// fs.ErrPermission and the like with errors.Is.
package atomicfile
