package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

func init() { commandSet = append(commandSet, completionCommand) }

// completeFlag is the argument urfave/cli answers with completion candidates (command names, or
// flag names when the word before it starts with -) instead of running the command.
const completeFlag = "--generate-bash-completion"

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh, fish or powershell",
		ArgsUsage: "SHELL",
		Category:  "setup",
		Description: `Prints a script that completes deltashare's commands and flags in SHELL. Load it:

  bash        source <(deltashare completion bash)        (in ~/.bashrc)
  zsh         source <(deltashare completion zsh)         (in ~/.zshrc, after compinit)
  fish        deltashare completion fish > ~/.config/fish/completions/deltashare.fish
  powershell  deltashare completion powershell | Out-String | Invoke-Expression   (in $PROFILE)

bash, zsh and powershell ask deltashare itself for the candidates as you type (so they follow the
version installed); fish gets a fixed list. The scripts complete the command named deltashare:
put the binary on PATH (go install, or copy bin/deltashare to a directory on PATH).`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(fmt.Errorf("completion takes one shell: bash, zsh, fish or powershell"))
			}
			return writeCompletion(ioFrom(c).Out, c.App, c.Args().First())
		},
	}
}

// writeCompletion writes the completion script for shell.
func writeCompletion(w io.Writer, app *cli.App, shell string) error {
	var script string
	switch shell {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "powershell", "pwsh":
		script = powershellCompletion
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return err
		}
		script = s
	default:
		return usageError(fmt.Errorf("completion %q: give bash, zsh, fish or powershell", shell))
	}
	_, err := io.WriteString(w, script)
	return err
}

const bashCompletion = `# bash completion for deltashare: source <(deltashare completion bash)
_deltashare_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local -a args=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
  # A flag being typed is passed on, so that deltashare lists the flags of the command.
  if [[ "$cur" == -* ]]; then
    args+=("$cur")
  fi
  local IFS=$'\n'
  local candidates
  candidates=$("${COMP_WORDS[0]}" "${args[@]}" ` + completeFlag + ` 2>/dev/null)
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -o bashdefault -F _deltashare_complete deltashare
`

const zshCompletion = `#compdef deltashare
# zsh completion for deltashare: source <(deltashare completion zsh) (after compinit)
_deltashare() {
  local cur=${words[CURRENT]}
  local -a args candidates
  args=(${words[2,CURRENT-1]})
  # A flag being typed is passed on, so that deltashare lists the flags of the command.
  if [[ $cur == -* ]]; then
    args+=($cur)
  fi
  candidates=(${(f)"$(${words[1]} $args ` + completeFlag + ` 2>/dev/null)"})
  if (( ${#candidates} )); then
    compadd -a candidates
  else
    _files
  fi
}
compdef _deltashare deltashare
`

const powershellCompletion = `# PowerShell completion for deltashare:
#   deltashare completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName 'deltashare', 'deltashare.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    $exe = $words[0]
    $done = @()
    if ($words.Count -gt 1) { $done = @($words[1..($words.Count - 1)]) }
    # The word being completed is not a finished argument.
    if ($wordToComplete -ne '' -and $done.Count -gt 0 -and $done[-1] -eq $wordToComplete) {
        if ($done.Count -gt 1) { $done = @($done[0..($done.Count - 2)]) } else { $done = @() }
    }
    # A flag being typed is passed on, so that deltashare lists the flags of the command.
    if ($wordToComplete -like '-*') { $done += $wordToComplete }
    & $exe @done ` + completeFlag + ` 2>$null |
        Where-Object { $_ -like "$wordToComplete*" } |
        ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
}
`
