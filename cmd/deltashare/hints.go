package main

import "github.com/deltashare/deltashare/internal/hint"

// hintNames names, for the command line, the options and operations that library errors advise
// ({Overwrite} in a library message becomes --overwrite here). A name missing from the map keeps
// the library's wording ("the Overwrite option", or a qualified name such as Config.AddTable as
// written); TestHintNames fails for advice whose names are missing here.
var hintNames = map[string]string{
	// export.Options and export.SyncOptions (export, changes, sync).
	"Overwrite":         "--overwrite",
	"AllowSchemaChange": "--allow-schema-change",
	"BreakLock":         "--break-lock",
	"Format":            "--format",
	"Output":            "-o",
	// reader.ReadOptions.
	"Where": "--where",
	// Operations of the libraries, and the commands that do them.
	"tokenmgr.Activate":    "deltashare activate",
	"tokenmgr.Store.List":  "deltashare creds list",
	"Client.ListAllTables": "deltashare tables",
	"server.Config":        "deltashare serve --help",
	"Config.AddTable":      "--table share.schema.table=PATH",
	"Config.Activation":    "--activation",
	"Config.Tokens":        "tokens to the config, or pass --token-env VAR (or --token)",
	"Config.NoAuth":        "noAuth: true in the config",
	// tokenmgr: ActivateOptions, where the store lives, operations.
	"Name":                      "--name",
	"Host":                      "--host",
	"Out":                       "--out",
	"StoreDir":                  "DELTASHARE_CONFIG_DIR",
	"ActivateResult.Credential": "deltashare prints it on standard output",
	"tokenmgr.Store.Remove":     "deltashare creds remove",
	"tokenmgr.Store.Import":     "deltashare creds import",
	"tokenmgr.Store.SetDefault": "deltashare creds default",
	"Profile":                   "-p NAME|FILE",
	// tokenmgr/databricks: WorkspaceOptions, RotateOptions, operations.
	"WorkspaceOptions.Host":       "--databricks-host",
	"WorkspaceOptions.Profile":    "--databricks-profile",
	"WorkspaceOptions.ConfigFile": "--databricks-config-file",
	"RotateOptions.Host":          "--databricks-host",
	"RotateOptions.Profile":       "--databricks-profile",
	"RotateOptions.TokenFile":     "--token-file",
	"RotateOptions.OldTokenID":    "--old-id",
	"Workspace.ListPATs":          "`deltashare pat list`",
}

func cliName(name string) (string, bool) {
	s, ok := hintNames[name]
	return s, ok
}

// errorText is how the CLI shows an error: its text with advice in flag and command names.
func errorText(err error) string { return hint.RenderError(err, cliName) }
