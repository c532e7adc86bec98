package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/tokenmgr/databricks"
)

// patRotateOptions are the options of `deltashare pat rotate`.
type patRotateOptions struct {
	Rotate databricks.RotateOptions
	Output string // text or json
	Quiet  bool
	// Principal, when set, rotates a service principal's token instead (see spRotate).
	Principal *spRotateOptions
}

// spRotateOptions are the options of `pat rotate --for-service-principal`.
type spRotateOptions struct {
	Workspace databricks.WorkspaceOptions
	// Name is the principal's display name or application ID.
	Name     string
	Out      string
	Comment  string
	Lifetime time.Duration
	OldIDs   []string
	// RevokeOld is set by --revoke-old-after, the wait being RevokeOldAfter.
	RevokeOld      bool
	RevokeOldAfter time.Duration
}

func patRotateCommand() *cli.Command {
	return &cli.Command{
		Name:  "rotate",
		Usage: "replace the token in a ~/.databrickscfg profile or a token file, or a service principal's token",
		Description: `Creates a new token with the stored one, writes it in place of the old one (keeping the rest of
the file and its mode), verifies it as read back, then revokes the old token. If a step fails,
the old token is put back and the new one revoked; the error says what was rolled back.

The stored token cannot be recognised by its value: if its identity has several tokens, pass
--old-id ID (see pat list). The new value is printed only with --show.

With --for-service-principal NAME|APP_ID --out FILE (workspace admins), rotates a service
principal's token in the order the integration guides give: creates the new token on its
behalf, writes it to FILE (a new file, mode 0600) for the consumer, verifies that it works as
the principal, and then, only with --revoke-old-after (a duration, 0 for at once), revokes the
principal's previous tokens with the same --comment. Without --revoke-old-after it prints the
deltashare pat revoke commands to run once the consumer uses the new token. When several
tokens match --comment it lists them and changes nothing: name them with --old-id ID[,ID].`,
		Flags: workspaceFlags(
			&cli.StringFlag{Name: "token-file", Usage: "file holding just the token (instead of --databricks-profile; needs --host)"},
			&cli.StringFlag{Name: "old-id", Usage: "ID of the token stored in the target"},
			&cli.StringFlag{Name: "comment", Value: "deltashare", Usage: "comment of the new token"},
			&cli.StringFlag{Name: "lifetime", Value: "90d", Usage: "lifetime of the new token (0: no expiry)"},
			&cli.BoolFlag{Name: "show", Usage: "print the new token value"},
			&cli.StringFlag{Name: "for-service-principal", Usage: "rotate this service principal's token (display name or application ID; needs --out)"},
			&cli.StringFlag{Name: "out", Usage: "with --for-service-principal: write the new token to this new file (mode 0600)"},
			&cli.StringFlag{Name: "revoke-old-after", Usage: "with --for-service-principal: revoke the old token(s) this long after the new one is verified (0: at once)"},
		),
		Action: action(parsePATRotateOptions, runPATRotate),
	}
}

// parsePATRotateOptions reads the flags; the host of a --token-file and the profile default
// to DATABRICKS_HOST and DATABRICKS_CONFIG_PROFILE.
func parsePATRotateOptions(c *cli.Context) (o patRotateOptions, err error) {
	if o.Output, err = outputArgs(c, 0, 0, "--databricks-profile P | --token-file F --host H"); err != nil {
		return o, err
	}
	lifetime, err := durationFlag(c, "lifetime")
	if err != nil {
		return o, err
	}
	o.Quiet = c.Bool("quiet")
	if c.IsSet("for-service-principal") {
		return o, parseSPRotate(c, &o, lifetime)
	}
	for _, f := range []string{"out", "revoke-old-after"} {
		if c.IsSet(f) {
			return o, usageError(fmt.Errorf("pat rotate: --%s goes with --for-service-principal", f))
		}
	}
	o.Rotate = databricks.RotateOptions{
		Profile: c.String("databricks-profile"), ConfigFile: cmp.Or(c.String("databricks-config-file"), os.Getenv("DATABRICKS_CONFIG_FILE")),
		TokenFile: c.String("token-file"), Host: c.String("host"),
		OldTokenID: c.String("old-id"), Comment: c.String("comment"), Lifetime: lifetime, Show: c.Bool("show"),
		Timeout: workspaceOptionsFrom(c).Timeout,
	}
	switch r := &o.Rotate; {
	case r.TokenFile != "" && r.Host == "":
		r.Host = os.Getenv("DATABRICKS_HOST")
	case r.TokenFile == "" && r.Profile == "":
		r.Profile = os.Getenv("DATABRICKS_CONFIG_PROFILE")
	}
	if o.Rotate.Profile == "" && o.Rotate.TokenFile == "" {
		return o, usageError(errors.New("pat rotate: say where the token lives: --databricks-profile NAME (in ~/.databrickscfg) or --token-file FILE --host URL"))
	}
	return o, nil
}

// parseSPRotate reads the flags of a service principal's rotation.
func parseSPRotate(c *cli.Context, o *patRotateOptions, lifetime time.Duration) error {
	sp := &spRotateOptions{Workspace: workspaceOptionsFrom(c), Name: c.String("for-service-principal"), Out: c.String("out"),
		Comment: c.String("comment"), Lifetime: lifetime}
	if sp.Name == "" {
		return usageError(errors.New("pat rotate: --for-service-principal needs a display name or application ID"))
	}
	for _, f := range []string{"token-file", "show"} {
		if c.IsSet(f) {
			return usageError(fmt.Errorf("pat rotate: --%s does not go with --for-service-principal (the new token is written to --out)", f))
		}
	}
	if sp.Out == "" {
		return usageError(errors.New("pat rotate: Databricks shows a new token's value only once: pass --out FILE to write the service principal's new token to a private file (nothing was created)"))
	}
	if ids := c.String("old-id"); ids != "" {
		for _, id := range strings.Split(ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				sp.OldIDs = append(sp.OldIDs, id)
			}
		}
	}
	if c.IsSet("revoke-old-after") {
		d, err := durationFlag(c, "revoke-old-after")
		if err != nil {
			return err
		}
		sp.RevokeOld, sp.RevokeOldAfter = true, d
	}
	o.Principal = sp
	return nil
}

// rotateJSON is the --output json of `pat rotate` (a profile or token file).
type rotateJSON struct {
	Target     string    `json:"target"`
	Host       string    `json:"host"`
	OldTokenID string    `json:"oldTokenId"`
	NewToken   tokenJSON `json:"newToken"`
	// NewTokenValue only with --show.
	NewTokenValue string `json:"newTokenValue,omitempty"`
}

func runPATRotate(ctx context.Context, o patRotateOptions, d *deps) error {
	if o.Principal != nil {
		return runSPRotate(ctx, o, d)
	}
	if err := checkTimeout(o.Rotate.Timeout); err != nil {
		return err
	}
	if o.Rotate.OnRetry == nil {
		o.Rotate.OnRetry = stillTrying(d)
	}
	res, err := databricks.RotatePAT(ctx, o.Rotate)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		out := rotateJSON{Target: res.Target, Host: res.Host, OldTokenID: res.OldTokenID, NewToken: toTokenJSON(res.NewToken, "", d.Now())}
		if res.Show {
			out.NewTokenValue = res.NewValue.Reveal()
		}
		return writeJSON(d.IO.Out, out)
	}
	if !o.Quiet || o.Rotate.Show {
		fmt.Fprintln(d.IO.Out, res.String())
	}
	return nil
}
