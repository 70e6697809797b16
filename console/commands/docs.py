"""Shell completion (bash, zsh, fish) and a man page, both generated from the argparse parser,
so they never drift from the options the command really takes.

Node, wizard and context names are completed from the operator's own files at completion
time: the scripts call ``clusterconsole completion --names nodes|wizards|contexts``, which
reads cluster.toml (the same search as every command) and prints one name a line, or nothing.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from datetime import date
from typing import TextIO

from console import exitcodes

SHELLS = ("bash", "zsh", "fish")
NAME_KINDS = ("nodes", "wizards", "contexts")
# Options whose values are names from the operator's files.
DYNAMIC = {"--node": "nodes", "--nodes": "nodes", "--wizard": "wizards", "--context": "contexts"}
FILES = ("--config", "--answers", "--ansible", "file", "files")
SUMMARY = "terminal console for clustered Tomcat servers behind httpd or HAProxy"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if action.help != argparse.SUPPRESS
    ]


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The one-line help of each subcommand, as `--help` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {choice.dest: choice.help or "" for choice in action._choices_actions}
    return {}


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every (sub)command path with its parser: ("", main), ("status", ...), ("sandbox up", ...)."""
    yield prefix, parser
    for name, sub in _subparsers(parser).items():
        yield from _commands(sub, f"{prefix} {name}".strip())


def names(kind: str, config: str | None, out: TextIO) -> int:
    """Print the names of ``kind`` one a line, for the completion scripts; never fails loudly."""
    found: list[str] = []
    try:
        if kind == "nodes":
            from console.config import find_config, load_inventory

            found = [node.name for node in load_inventory(find_config(config)).nodes]
        elif kind == "wizards":
            from console.operations.registry import SPECS

            found = sorted(SPECS)
        elif kind == "contexts":
            from console.commands.tools import context_names

            found = context_names()
    except Exception:  # completion must never print an error into the operator's prompt
        found = []
    for name in found:
        print(name, file=out)
    return exitcodes.OK


def bash(parser: argparse.ArgumentParser, prog: str) -> str:
    cases = []
    for path, sub in _commands(parser):
        words = " ".join([*_options(sub), *_subparsers(sub)])
        cases.append(f'        "{path}") words="{words}" ;;')
    dynamic = "|".join(DYNAMIC)
    files = "|".join(option for option in FILES if option.startswith("-"))
    return f"""# bash completion for {prog} (generated from its parser: `{prog} completion bash`)
_{prog}_complete() {{
    local cur prev path word words i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    case "$prev" in
        {dynamic})
            local kind
            case "$prev" in
                --node|--nodes) kind=nodes ;;
                --wizard) kind=wizards ;;
                --context) kind=contexts ;;
            esac
            COMPREPLY=($(compgen -W "$({prog} completion --names "$kind" 2>/dev/null)" -- "$cur"))
            return ;;
        {files})
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
    esac
    path=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        case "$word" in
            -*) ;;
            *) case " $(_{prog}_words "${{path}}") " in
                   *" $word "*) path="${{path:+$path }}$word" ;;
               esac ;;
        esac
    done
    COMPREPLY=($(compgen -W "$(_{prog}_words "$path")" -- "$cur"))
}}
_{prog}_words() {{
    local words=""
    case "$1" in
{chr(10).join(cases)}
    esac
    echo "$words"
}}
complete -o default -F _{prog}_complete {prog}
"""


def zsh(parser: argparse.ArgumentParser, prog: str) -> str:
    return f"""#compdef {prog}
# zsh completion for {prog} (generated from its parser: `{prog} completion zsh`); it uses the
# bash completion through zsh's bashcompinit, so both complete the same words.
autoload -U +X bashcompinit && bashcompinit
{bash(parser, prog)}"""


def fish(parser: argparse.ArgumentParser, prog: str) -> str:
    lines = [f"# fish completion for {prog} (generated from its parser: `{prog} completion fish`)"]
    lines.append(f"complete -c {prog} -f")
    top = _subparsers(parser)
    for path, sub in _commands(parser):
        if path:
            head = path.split()
            condition = f"__fish_seen_subcommand_from {head[-1]}"
        else:
            condition = f"not __fish_seen_subcommand_from {' '.join(top)}"
        helps = _helps(sub)
        for name in _subparsers(sub):
            text = helps.get(name, "").replace("'", "")
            lines.append(f"complete -c {prog} -n '{condition}' -a {name} -d '{text[:60]}'")
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                if not option.startswith("--"):
                    continue
                text = re.sub(r"[%'()]", "", action.help or "")[:60]
                extra = ""
                if option in DYNAMIC:
                    extra = f" -x -a '({prog} completion --names {DYNAMIC[option]})'"
                elif option in FILES:
                    extra = " -r -F"
                elif action.nargs != 0:
                    extra = " -x"
                lines.append(
                    f"complete -c {prog} -n '{condition}' -l {option[2:]}{extra} -d '{text}'"
                )
    return "\n".join(lines) + "\n"


def completion(shell: str, parser: argparse.ArgumentParser, prog: str) -> str:
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](parser, prog)


def _roff(text: str) -> str:
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        ("\\&" + line) if line.startswith((".", "'")) else line for line in escaped.splitlines()
    )


def _option_items(parser: argparse.ArgumentParser) -> list[str]:
    items: list[str] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            metavar = f" {action.metavar}" if action.metavar and action.nargs != 0 else ""
            head = ", ".join(f"\\fB{_roff(option)}\\fR" for option in action.option_strings)
            items.append(f".TP\n{head}{_roff(metavar)}\n{_roff(action.help or '')}")
        else:
            name = _roff(str(action.metavar or action.dest))
            items.append(f".TP\n\\fI{name}\\fR\n{_roff(action.help or '')}")
    return items


def man_page(parser: argparse.ArgumentParser, prog: str, version: str) -> str:
    """The man page (roff, section 1): synopsis, description, every option of every command."""
    description = parser.description or ""
    lines = [
        f'.TH {prog.upper()} 1 "{date.today():%Y-%m-%d}" "{prog} {version}" "User Commands"',
        ".SH NAME",
        f"{prog} \\- {SUMMARY}",
        ".SH SYNOPSIS",
        f"\\fB{prog}\\fR [\\fIOPTIONS\\fR] [\\fICOMMAND\\fR ...]",
        ".SH DESCRIPTION",
        ".nf",
        _roff(description),
        ".fi",
        ".SH OPTIONS",
        *_option_items(parser),
        ".SH COMMANDS",
    ]
    helps: dict[str, str] = {}
    for path, sub in _commands(parser):
        helps.update({f"{path} {name}".strip(): text for name, text in _helps(sub).items()})
        if not path:
            continue
        lines.append(f".SS {prog} {_roff(path)}")
        if helps.get(path):
            lines.append(_roff(helps[path]))
        lines.extend(_option_items(sub))
    if parser.epilog:
        lines.extend([".SH NOTES", ".nf", _roff(parser.epilog), ".fi"])
    return "\n".join(lines) + "\n"
