"""Does a node's SSH port still take new connections? The banner check made while connected.

Killing sshd's listener leaves established sessions alive, so only a new connection shows that
the node can no longer be reached. A node reached directly is asked from here (a TCP connect and
its banner); a node behind a ProxyJump host is asked from that host, through a direct-tcpip
channel of the shared jump connection (``ssh -W`` does the same), since from here its port is
not reachable at all. Nothing is sent either way: the connection closes after the banner (sshd
logs a connection closed before authentication).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import asyncssh

from probes.ssh.handshake import os_reason

LISTENER_TIMEOUT = 3.0
BANNER_LIMIT = 2048  # bytes read for a banner before a port counts as "not SSH"


async def _banner_trouble(recv: Callable[[], Awaitable[bytes]]) -> str | None:
    """None when what ``recv`` reads starts like an SSH server's banner; else why not."""
    seen = b""
    while len(seen) <= BANNER_LIMIT:
        data = await recv()
        if not data and not seen:
            return "the SSH port closed new connections without a banner"
        if not data:
            break
        seen += data
        # RFC 4253 lets a server send other lines before its banner.
        if any(line.startswith(b"SSH-") for line in seen.split(b"\n")[:-1]):
            return None
    return "the SSH port does not answer like an SSH server"


async def listener_trouble(host: str, port: int, timeout: float = LISTENER_TIMEOUT) -> str | None:
    """None when ``host:port`` accepts a TCP connection and sends an SSH banner; else why not.

    Plain non-blocking sockets, not streams: with hundreds of nodes this runs a hundred times a
    second, and streams cost ~30 % more CPU.
    """
    loop = asyncio.get_running_loop()
    sock: socket.socket | None = None
    try:
        async with asyncio.timeout(timeout):
            try:  # an address needs no lookup (getaddrinfo runs in a thread: costly)
                ip = ipaddress.ip_address(host)
            except ValueError:
                family, kind, proto, _, address = (
                    await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                )[0]
            else:
                family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
                kind, proto, address = socket.SOCK_STREAM, 0, (host, port)
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
            connected = sock
            return await _banner_trouble(lambda: loop.sock_recv(connected, 512))
    except TimeoutError:
        return f"no SSH banner within {timeout:g} s"
    except OSError as exc:
        return os_reason(exc)
    finally:
        if sock is not None:
            sock.close()


async def listener_trouble_via(
    via: asyncssh.SSHClientConnection, host: str, port: int, timeout: float = LISTENER_TIMEOUT
) -> str | None:
    """As `listener_trouble`, asked from the far end of ``via`` (the jump host): a direct-tcpip
    channel to ``host:port`` and its banner."""
    writer: asyncssh.SSHWriter[bytes] | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await via.open_connection(host, port, encoding=None)
            stream = reader
            return await _banner_trouble(lambda: stream.read(512))
    except TimeoutError:
        return f"no SSH banner within {timeout:g} s"
    except asyncssh.ChannelOpenError as exc:
        # OpenSSH's sshd answers "Connection refused" (or the connect's error) as the reason.
        reason = (exc.reason or "cannot open a connection").strip().rstrip(".")
        return reason[:1].lower() + reason[1:]
    except (OSError, asyncssh.Error) as exc:
        return f"the jump connection failed: {exc}"
    finally:
        if writer is not None:
            writer.close()


__all__ = ["BANNER_LIMIT", "LISTENER_TIMEOUT", "listener_trouble", "listener_trouble_via"]
