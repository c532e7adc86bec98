package main

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/urfave/cli/v2"
)

func newApp() *cli.App {
	app := &cli.App{
		Name:                 "deltashare",
		Usage:                "get data out of Delta Sharing",
		Version:              version,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		Commands:             commands(),
		ExitErrHandler:       func(*cli.Context, error) {}, // main decides the exit code
		OnUsageError:         onUsageError,
		Action:               rootAction,
	}
	usageErrorsExit2(app.Commands)
	unknownSubcommandsExit2(app.Commands)
	ownFlags(app.Commands)
	return app
}

// ownFlags gives every command its own copy of its flags. Flags shared by several commands are
// package variables, and urfave/cli writes into a flag it reads from the environment (its Value
// and default): without copies, one App's run would leak into the next one's (tests run many
// in one process).
func ownFlags(cmds []*cli.Command) {
	for _, c := range cmds {
		for i, f := range c.Flags {
			if v := reflect.ValueOf(f); v.Kind() == reflect.Pointer && !v.IsNil() {
				own := reflect.New(v.Elem().Type())
				own.Elem().Set(v.Elem())
				c.Flags[i] = own.Interface().(cli.Flag)
			}
		}
		ownFlags(c.Subcommands)
	}
}

// onUsageError makes a flag that does not parse (an unknown flag, "--limit many") a usage
// error: exit 2, like every other bad flag.
func onUsageError(_ *cli.Context, err error, _ bool) error { return usageError(err) }

func usageErrorsExit2(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = onUsageError
		}
		usageErrorsExit2(c.Subcommands)
	}
}

// rootAction runs when the first argument names no command: no argument prints the help (exit
// 0), `help [COMMAND...]` the help of a command (exit 0), anything else is an unknown command:
// a usage error (exit 2), not urfave/cli's "No help topic" (exit 3, the code of a partial
// failure).
func rootAction(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return cli.ShowAppHelp(c)
	}
	if args[0] != "help" {
		return usageError(fmt.Errorf("unknown command %q: deltashare --help lists the commands", args[0]))
	}
	topic := args[1:]
	if len(topic) == 0 {
		return cli.ShowAppHelp(c)
	}
	cmds := c.App.Commands
	for i, a := range topic {
		cmd := findCommand(cmds, a)
		if cmd == nil {
			return usageError(fmt.Errorf("no help for %q: deltashare --help lists the commands", strings.Join(topic[:i+1], " ")))
		}
		cmds = cmd.Subcommands
	}
	// The help of a command is what its --help prints.
	app := newApp()
	app.Writer, app.ErrWriter, app.Metadata = c.App.Writer, c.App.ErrWriter, c.App.Metadata
	return app.RunContext(c.Context, append(append([]string{c.App.Name}, topic...), "--help"))
}

// unknownSubcommandsExit2 makes an unknown subcommand of a command group (`deltashare pat
// nosuch`) a usage error, exit 2; the group alone still prints its help.
func unknownSubcommandsExit2(cmds []*cli.Command) {
	for _, c := range cmds {
		if len(c.Subcommands) == 0 {
			continue
		}
		if c.Action == nil {
			c.Action = func(c *cli.Context) error {
				if c.NArg() == 0 {
					return cli.ShowSubcommandHelp(c)
				}
				return usageError(fmt.Errorf("unknown command %q: %s --help lists the commands", c.Args().First(), c.Command.HelpName))
			}
		}
		unknownSubcommandsExit2(c.Subcommands)
	}
}

// commands lists every subcommand; each file of this package adds its own.
func commands() []*cli.Command {
	var out []*cli.Command
	for _, c := range commandSet {
		out = append(out, c())
	}
	return out
}

var commandSet []func() *cli.Command

// interspersed moves flags that follow positional arguments in front of them, so that
// `deltashare export TABLE -o out.csv` works like `deltashare export -o out.csv TABLE`
// (urfave/cli v2 stops parsing flags at the first argument). "--" ends flag handling.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == completeFlag {
		return args // shell completion: urfave/cli reads the words as typed
	}
	// Walk down the command path.
	cmds := app.Commands
	i := 1
	var cmd *cli.Command
	for i < len(args) {
		next := findCommand(cmds, args[i])
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
		i++
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	for j := i; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			pos = append(pos, args[j:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' && a != "-" {
			name := strings.TrimLeft(a, "-")
			name, _, hasValue := strings.Cut(name, "=")
			flags = append(flags, a)
			if takesValue[name] && !hasValue && j+1 < len(args) {
				flags = append(flags, args[j+1])
				j++
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append([]string{}, args[:i]...)
	out = append(out, flags...)
	return append(out, pos...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
