package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deltashare/deltashare/sharing"
	"github.com/deltashare/deltashare/tokenmgr"
)

// credsShowOptions are the options of `deltashare creds show`.
type credsShowOptions struct {
	Output string // text or json
	Name   string
}

func credsShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a stored credential: metadata and profile (token, client secret and password redacted)",
		ArgsUsage: "NAME",
		Flags:     []cli.Flag{outputFlag, configDirFlag},
		Action:    action(parseCredsShowOptions, runCredsShow),
	}
}

func parseCredsShowOptions(c *cli.Context) (o credsShowOptions, err error) {
	if o.Output, err = outputArgs(c, 1, 1, "NAME"); err != nil {
		return o, err
	}
	o.Name = c.Args().First()
	return o, nil
}

func runCredsShow(_ context.Context, o credsShowOptions, d *deps) error {
	store, err := d.Store()
	if err != nil {
		return err
	}
	m, err := store.Stat(o.Name)
	if err != nil {
		return err
	}
	now := d.Now()
	def, err := store.Default()
	if err != nil {
		return err
	}
	cj := newCredJSON(now, m, def != "" && strings.EqualFold(def, m.Name))
	if m.State != tokenmgr.StatePending {
		cred, err := store.Get(o.Name)
		if err != nil {
			return err
		}
		cj.Path = cred.Path
		if cj.Profile, err = redactedProfileJSON(cred.Profile); err != nil {
			return err
		}
	}
	return printResult(d, o.Output, cj, func(w io.Writer) error { return printCred(w, m, cj, now) })
}

// printCred writes a stored credential for people: m as the store's metadata says, cj with
// its file and redacted profile.
func printCred(out io.Writer, m tokenmgr.Meta, cj credJSON, now time.Time) error {
	f := fieldLines{w: out, width: 11}
	f.linef("name", "%s", m.Name)
	if cj.Default {
		f.linef("default", "yes (used when no -p is given)")
	}
	f.linef("state", "%s", m.State)
	f.linef("endpoint", "%s", orDash(m.Endpoint))
	f.optional("type", m.ProfileType)
	src := string(m.Source.Kind)
	if m.Source.Host != "" {
		src += " from " + m.Source.Host
	}
	if m.Source.File != "" {
		src += " of " + m.Source.File
	}
	f.linef("source", "%s", src)
	if !m.Created.IsZero() {
		f.linef("created", "%s", m.Created.UTC().Format(time.RFC3339))
	}
	if m.State == tokenmgr.StatePending {
		fmt.Fprintf(out, "the activation link was recorded but the credential was not downloaded: run deltashare activate --name %s to download it\n", m.Name)
		return nil
	}
	f.linef("expires", "%s", expiryPhrase(now, m.Expiry))
	f.linef("file", "%s", cj.Path)
	var pretty strings.Builder
	if err := writeJSON(&pretty, cj.Profile); err != nil {
		return err
	}
	fmt.Fprintf(out, "profile (secrets redacted; deltashare creds export %s writes the real file):\n%s", m.Name, pretty.String())
	return nil
}

// redactedProfileJSON is the profile file JSON with the bearer token, client secret and
// password replaced by "[redacted]" (a JWT bearer profile holds no secret: its key stays in
// the file it names).
func redactedProfileJSON(p *sharing.Profile) (json.RawMessage, error) {
	q := *p
	if q.BearerToken != "" {
		q.BearerToken = "[redacted]"
	}
	if q.ClientSecret != "" {
		q.ClientSecret = "[redacted]"
	}
	if q.Password != "" {
		q.Password = "[redacted]"
	}
	return json.Marshal(q)
}
