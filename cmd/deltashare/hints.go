package main

import "github.com/deltashare/deltashare/internal/hint"

// hintNames names, for the command line, the options and operations that library errors advise
// ({Overwrite} in a library message becomes --overwrite here). A name missing from the map keeps
// the library's wording ("the Overwrite option").
var hintNames = map[string]string{
	"Overwrite": "--overwrite",
}

func cliName(name string) (string, bool) {
	s, ok := hintNames[name]
	return s, ok
}

// errorText is how the CLI shows an error: its text with advice in flag and command names.
func errorText(err error) string { return hint.RenderError(err, cliName) }
