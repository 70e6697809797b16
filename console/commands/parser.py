"""The `clusterconsole` command line: its words (description, epilog, exit codes) and its parser.

Building the parser imports nothing heavy: `--help`, completion and the man page start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from console.paths import user_config_dir, user_state_dir

PROG = "clusterconsole"

DESCRIPTION = """\
A terminal console for clustered Tomcat servers (Joget, WSO2 Carbon, frevvo, Liferay) behind
an Apache httpd balancer-manager or HAProxy, with a shared database and shared directory.

modes:
  clusterconsole                       interactive session on the cluster in cluster.toml
  clusterconsole --watch               read-only wall-screen view (no action reachable)
  clusterconsole --wizard NAME ...     run a wizard without a screen (add-node, drain, ...)
  clusterconsole status [--json|--nagios]
                                       one-shot snapshot of the fleet (--nagios: a monitoring
                                       plugin's line and exit code)
  clusterconsole config check [FILE]   validate cluster.toml only, like `sshd -t`
  clusterconsole config import --ansible FILE
                                       an Ansible inventory as a cluster.toml to review
  clusterconsole completion bash|zsh|fish   shell completion; clusterconsole man: the man page
  clusterconsole doctor [--json]       the misconfigurations the clustering guides warn about
  clusterconsole events FILE...        membership and lifecycle events in saved log files
  clusterconsole balancer URL          one-shot read of a balancer-manager page
  clusterconsole sandbox up|down|status|spares|inventory
                                       a real local cluster on loopback addresses
"""

EPILOG = f"""\
configuration:
  cluster.toml is taken from --config FILE, $CLUSTERCONSOLE_CONFIG, ./cluster.toml, then
  {user_config_dir() / "cluster.toml"}; --sandbox uses the running sandbox's inventory;
  --context NAME uses {user_config_dir() / "clusters" / "NAME.toml"}.
  SSH follows ~/.ssh/config (HostName, Port, User, IdentityFile, ProxyJump, known_hosts files);
  the inventory's ssh settings win only where it sets them.

environment:
  CLUSTERCONSOLE_CONFIG        path of cluster.toml
  CLUSTERCONSOLE_SANDBOX_DIR   where the sandbox lives (default {user_state_dir() / "sandbox"})
  CLUSTERCONSOLE_SANDBOX_NET   loopback /24 of the sandbox (default 127.0.0)
  CLUSTERCONSOLE_AUDIT_LOG     the audit log: one JSON line before and after every change
                               (default {user_state_dir() / "audit.jsonl"})
  CLUSTERCONSOLE_STATE_DIR     where maintenance marks and acknowledged problems are kept
                               (default: the audit log's directory)

exit codes:
  0  ok
  1  the cluster has problems, or an operation failed
  2  usage or configuration error (also: a mode that is not available yet)
  3  refused by a safety check (e.g. a wizard in read-only watch mode)
"""

NOT_YET = "not yet available in this version of clusterconsole"


def _node_count(text: str) -> int:
    """argparse type for --nodes: a whole number the sandbox can hold."""
    from console.sandbox.layout import MAX_NODES

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_NODES}, got {value}")
    return value


def _spare_count(text: str) -> int:
    """argparse type for --spare: how many spare hosts the sandbox prepares."""
    from console.sandbox.layout import MAX_SPARES

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= MAX_SPARES:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SPARES}, got {value}")
    return value


def _config_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--config / --sandbox, on the main parser and again on subcommands that read the config.

    On subcommands the defaults are suppressed so a value given before the subcommand survives.
    """
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--config", metavar="FILE", default=default, help="the cluster inventory (cluster.toml)"
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the running sandbox's inventory",
    )
    group.add_argument(
        "--context",
        metavar="NAME",
        default=default,
        help="use the cluster NAME: the inventory clusters/NAME.toml in the config directory",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; `--help` on it is the reference for every mode."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _config_options(parser, suppress=False)
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show the versions (ours, Python's, the key libraries') and the config in use",
    )
    parser.add_argument("--theme", metavar="NAME", help="colour theme")
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="record the SSH host key of a node no known_hosts file names yet (like OpenSSH's "
        "StrictHostKeyChecking accept-new); a changed key is still refused",
    )

    watch = parser.add_argument_group("watch mode (a wall screen)")
    watch.add_argument("--watch", action="store_true", help="read-only view: changes nothing")
    watch.add_argument(
        "--cycle", metavar="SECONDS", type=float, help="in watch mode, rotate views this often"
    )
    watch.add_argument(
        "--serve",
        metavar="ADDR:PORT",
        help="with --watch: serve the wall to browsers at ADDR:PORT (each viewer gets its own "
        "read-only wall); loopback only unless --serve-public",
    )
    watch.add_argument(
        "--serve-public",
        action="store_true",
        help="allow --serve on an address other than loopback (whoever reaches it sees the "
        "cluster's state)",
    )

    wizard = parser.add_argument_group("scripted wizards")
    wizard.add_argument(
        "--wizard",
        metavar="NAME",
        help="run wizard NAME without a screen (`--wizard help` lists them and their questions)",
    )
    wizard.add_argument("--node", metavar="NODE", help="the node a node wizard acts on")
    wizard.add_argument(
        "--nodes",
        metavar="A,B",
        dest="wizard_nodes",
        help="the nodes a cluster wizard acts on, in this order (default: every node)",
    )
    wizard.add_argument(
        "--answers", metavar="FILE", help="answers to the wizard's questions (TOML)"
    )
    wizard.add_argument("--yes", action="store_true", help="make the changes without asking")
    wizard.add_argument("--dry-run", action="store_true", help="show every step, change nothing")
    wizard.add_argument("--force", action="store_true", help="override safety checks that allow it")
    wizard.add_argument("--timeout", metavar="SECONDS", type=float, help="give up after this long")
    wizard.add_argument("--json", action="store_true", help="progress as JSON lines")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    doctor = sub.add_parser("doctor", help="check the cluster for known misconfigurations")
    _config_options(doctor, suppress=True)
    doctor.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="the JSON document"
    )
    status = sub.add_parser("status", help="one-shot snapshot of the fleet")
    _config_options(status, suppress=True)
    status_format = status.add_mutually_exclusive_group()
    status_format.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="the JSON document"
    )
    status_format.add_argument(
        "--nagios",
        action="store_true",
        help="a Nagios/Icinga check: one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    )

    deploy = sub.add_parser(
        "deploy", help="deploy sync: --check shows which nodes differ from [deploy]'s source"
    )
    _config_options(deploy, suppress=True)
    deploy.add_argument(
        "--check",
        action="store_true",
        required=True,
        help="compare every node with the source (checksums, changes nothing); exit 1 on drift",
    )
    deploy.add_argument(
        "--nodes", dest="deploy_nodes", metavar="A,B", help="only these nodes (default: all)"
    )
    deploy.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="the JSON document"
    )
    config = sub.add_parser("config", help="check or import a cluster inventory")
    config_actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_actions.add_parser("check", help="validate only; exit 0 valid, 2 errors")
    check.add_argument(
        "file", nargs="?", metavar="FILE", help="the inventory (default: the one in use)"
    )
    _config_options(check, suppress=True)
    imported = config_actions.add_parser(
        "import", help="an Ansible inventory as a cluster.toml to review (printed)"
    )
    imported.add_argument(
        "--ansible",
        metavar="FILE",
        required=True,
        help="an INI or YAML inventory, or `ansible-inventory --list` JSON ('-': stdin)",
    )
    imported.add_argument(
        "--group", metavar="NAME", help="only the hosts of this group (default: every host)"
    )

    completion = sub.add_parser(
        "completion", help="a shell completion script (bash, zsh, fish) to source"
    )
    completion.add_argument("shell", nargs="?", choices=("bash", "zsh", "fish"), help="the shell")
    completion.add_argument(
        "--names",
        choices=("nodes", "wizards", "contexts"),
        help="print the names the scripts complete (from cluster.toml), one a line",
    )
    _config_options(completion, suppress=True)
    sub.add_parser("man", help="the man page (roff), generated from this parser")

    events = sub.add_parser("events", help="membership and lifecycle events in saved logs")
    events.add_argument("files", nargs="*", metavar="FILE", help="saved log files to read")
    events.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="one JSON line an event"
    )
    events.add_argument(
        "--kind", action="append", metavar="KIND[,KIND]", help="only these kinds (repeatable)"
    )
    events.add_argument("--since", metavar="TIME", help="logged at or after (ISO 8601)")
    events.add_argument("--until", metavar="TIME", help="logged at or before (ISO 8601)")
    events.add_argument(
        "--node", action="append", default=[], metavar="NAME=FILE", help="a node's log (repeatable)"
    )

    balancer = sub.add_parser("balancer", help="one-shot read of a balancer-manager page")
    balancer.add_argument(
        "url", metavar="URL", help="a balancer-manager URL, or a saved page (file or file://)"
    )
    balancer.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="the JSON document"
    )

    sandbox = sub.add_parser(
        "sandbox",
        help="a real local cluster: Tomcat nodes, httpd, MariaDB, sshd on loopback",
        description="A real local cluster from Debian's packages on loopback addresses.",
    )
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="build (once) and start the sandbox; idempotent")
    up.add_argument(
        "--nodes", type=_node_count, default=3, metavar="N", help="Tomcat nodes (default 3)"
    )
    up.add_argument(
        "--variant",
        choices=("joget", "liferay", "frevvo", "wso2"),
        default="joget",
        help="which guide's cluster: joget (httpd over HTTP, the default), liferay (HAProxy), "
        "frevvo (httpd over AJP, unloadDelay 40000, JGroups), wso2 (NGINX)",
    )
    up.add_argument(
        "--spare",
        type=_spare_count,
        default=None,
        metavar="N",
        help="N bare spare hosts (an sshd each, no Tomcat base) for add-node; default: keep",
    )
    actions.add_parser("down", help="stop exactly the processes the sandbox started")
    sandbox_status = actions.add_parser("status", help="which sandbox servers are running")
    sandbox_status.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="the JSON document"
    )
    spares = actions.add_parser("spares", help="the spare hosts (name, address, ssh port)")
    spares.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="the JSON document"
    )
    actions.add_parser("inventory", help="print the path of the sandbox's cluster.toml")
    license_key = actions.add_parser(
        "license-key",
        help="the key the sandbox's stand-in vendor issues for a node's system key",
    )
    license_key.add_argument(
        "system_key", metavar="SYSTEM_KEY", help="as the node's /license/ page shows it"
    )
    return parser


class _VersionAction(argparse.Action):
    """--version, with the version looked up only when asked for (it reads package metadata)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *_: object
    ) -> None:
        from console.commands.tools import config_in_use, version_report

        config = config_in_use(
            getattr(namespace, "config", None),
            bool(getattr(namespace, "sandbox", False)),
            getattr(namespace, "context", None),
        )
        sys.stdout.write(version_report(config))
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clusterconsole")
    except PackageNotFoundError:
        return "unknown"
