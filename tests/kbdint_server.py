"""A real SSH server that logs users in only by keyboard-interactive (a one-time code), for the
tests of the console's and the CLI's prompts: the sandbox's sshd has no PAM, so it offers none.

asyncssh's server side, on a loopback address of the test's network, with its host key in a
known_hosts file and an ssh_config that names nothing else (so no agent key or config is used).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

CODE = "314159"
CHALLENGE = "OTP login"
INSTRUCTIONS = "Enter the code from your token [bold]\x1b[31m"
QUESTION = "Verification code: "


@dataclass
class Seen:
    """What the server was answered, by user."""

    answers: list[list[str]] = field(default_factory=list)
    logins: int = 0


class _OtpServer(asyncssh.SSHServer):
    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(
        self, username: str, lang: str, submethods: str
    ) -> tuple[str, str, str, list[tuple[str, bool]]]:
        return CHALLENGE, INSTRUCTIONS, "", [(QUESTION, False)]

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        return True  # a jump host: asyncssh opens the direct-tcpip connection itself

    def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        self.seen.answers.append(list(responses))
        ok = list(responses) == [CODE]
        self.seen.logins += ok
        return ok


@dataclass
class OtpHost:
    host: str
    port: int
    known_hosts: Path
    seen: Seen

    def inventory_text(self, *, known_hosts: bool = True) -> str:
        """A one-node inventory reaching this server (no balancer, no database)."""
        ssh = f'\n[ssh]\nknown_hosts = "{self.known_hosts}"\n' if known_hosts else ""
        return (
            '[cluster]\nname = "otp"\n'
            f'\n[[nodes]]\nname = "otp1"\nhost = "{self.host}"\nssh_port = {self.port}\n'
            'ssh_user = "ops"\njvm_route = "otp1"\ncatalina_base = "/opt/tomcat"\n'
            f"{ssh}"
        )


@asynccontextmanager
async def otp_server(net: str, directory: Path, octet: int = 77) -> AsyncIterator[OtpHost]:
    """The server on ``net.octet``, port chosen by the kernel, with a known_hosts file naming it
    (``known_hosts-OCTET``); it forwards direct-tcpip like a jump host."""
    host = f"{net}.{octet}"
    key = asyncssh.generate_private_key("ssh-ed25519")
    seen = Seen()
    server = await asyncssh.create_server(
        lambda: _OtpServer(seen), host, 0, server_host_keys=[key], login_timeout=60
    )
    try:
        port = server.sockets[0].getsockname()[1]
        known = directory / ("known_hosts" if octet == 77 else f"known_hosts-{octet}")
        public = key.export_public_key("openssh").decode().split()[:2]
        known.write_text(f"[{host}]:{port} {' '.join(public)}\n")
        yield OtpHost(host, port, known, seen)
    finally:
        server.close()
        await server.wait_closed()


def isolate_client(home: Path) -> dict[str, str]:
    """Environment changes so no agent key nor user ssh config reaches the server."""
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "SSH_AUTH_SOCK": "", "PATH": os.environ.get("PATH", "")}
