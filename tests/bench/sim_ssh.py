"""A simulated fleet of SSH nodes for benchmarks: one asyncssh server process, one port per node.

    python -m tests.bench.sim_ssh --nodes 500 --base-port 30000 --addr 127.0.6.200 \
        --lines-per-s 10 --dir D [--burst-mb N]

It writes into D its host key, a known_hosts with one entry per `[addr]:port`, and a client key
it accepts (`id_client`), then prints READY. It answers the log follower's command (recognised by
`probes.tail.follow.SCRIPT_NAME`) with the follower's framed protocol, streaming realistic Tomcat
lines:
at --lines-per-s per node, or with --burst-mb, N MB as fast as the client takes them. The command
`burst-cat` streams the same N MB unframed, for a reference reader.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.connection import SSHConnection
from asyncssh.constants import MSG_IGNORE
from asyncssh.packet import String

from probes.tail.follow import SCRIPT_NAME

TICK = 0.02  # the ticker's resolution; each stream is polled at its follower's own interval
INODE = 4242
THREADS = ["http-nio-8080-exec-%d", "ajp-nio-8009-exec-%d", "Catalina-utility-%d", "main"]
# (weight, message): a busy node logs mostly its application, an error with its stack trace now
# and then, a little Tomcat chatter, and rarely a cluster line (state transfer, member joining).
MESSAGES = [
    (700, "com.example.app.OrderService.place order 7731 placed by user 1842 in 23 ms"),
    (200, "com.example.app.web.RequestLogger.log GET /app/orders/7731 200 12 ms user=1842"),
    (10, "TRACE"),
    (
        10,
        "org.apache.jasper.servlet.TldScanner.scanJars At least one JAR was scanned for TLDs "
        "yet contained no TLDs. Enable debug logging for this logger for a complete list of JARs.",
    ),
    (
        2,
        "org.apache.catalina.core.StandardContext.reload Reloading Context with name [/app] "
        "has started",
    ),
    (
        2,
        "org.apache.catalina.ha.session.DeltaManager.messageDataReceived Manager "
        "[localhost#/app]; session state sent at [22/11/2026, 11:59:01] received in [103] ms.",
    ),
]
TRACE = [
    "com.example.app.web.OrderServlet.doPost Servlet.service() failed",
    "java.lang.IllegalStateException: order 7731 is locked by another session",
    "\tat com.example.app.OrderService.place(OrderService.java:118)",
    "\tat com.example.app.web.OrderServlet.doPost(OrderServlet.java:57)",
    "\tat jakarta.servlet.http.HttpServlet.service(HttpServlet.java:590)",
    "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:"
    "138)",
    "\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:165)",
    "\tat org.apache.catalina.ha.session.JvmRouteBinderValve.invoke(JvmRouteBinderValve.java:207)",
    "\tat org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61)",
    "\tat java.base/java.lang.Thread.run(Thread.java:840)",
]
MEMBER_ADDED = (
    "org.apache.catalina.ha.tcp.SimpleTcpCluster.memberAdded Replication member added:[org."
    "apache.catalina.tribes.membership.StaticMember[tcp://{127, 0, 0, 12}:4000,{127, 0, 0, 12},"
    "4000, alive=37, securePort=-1, UDP Port=-1, id={0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 }, "
    "payload={}, command={}, domain={}]]"
)


def behave_like_openssh() -> None:
    """asyncssh sends an empty MSG_IGNORE before every packet once encrypting; OpenSSH does not
    (only for interactive ptys). Left in, it doubles the packets our client decrypts per frame and
    the simulated fleet would cost more than a real one."""
    original = SSHConnection.send_packet

    def send_packet(self: SSHConnection, pkttype: int, *args: bytes, **kwargs: Any) -> None:
        if pkttype == MSG_IGNORE and args == (String(b""),):
            return
        original(self, pkttype, *args, **kwargs)

    SSHConnection.send_packet = send_packet  # type: ignore[method-assign]


def tomcat_lines(count: int, seed: int = 7) -> list[bytes]:
    """`count` OneLineFormatter lines, mostly INFO chatter, a few cluster events among them."""
    rng = random.Random(seed)
    weights, texts = zip(*MESSAGES, strict=True)
    lines = []
    for n in range(count):
        second = n % 60
        thread = rng.choice(THREADS).replace("%d", str(rng.randint(1, 40)))
        level = "WARNING" if n % 97 == 0 else "INFO"
        message = MEMBER_ADDED if n % 2000 == 0 else rng.choices(texts, weights)[0]
        stamp = f"22-Nov-2026 11:59:{second:02d}.{n % 1000:03d}"
        if message == "TRACE":
            lines.append(f"{stamp} SEVERE [{thread}] {TRACE[0]}\n".encode())
            lines += [f"{text}\n".encode() for text in TRACE[1:]]
        else:
            lines.append(f"{stamp} {level} [{thread}] {message}\n".encode())
    return lines[:count]


def busy_lines() -> list[bytes]:
    """About 4 MB of the `events` benchmark's busy catalina.out (few errors, rare cluster
    lines), for bursts of an ordinary busy node rather than an error storm."""
    import tempfile

    from tests.bench.events_scan import generate

    with tempfile.TemporaryDirectory(prefix="cc-sim-lines-") as root:
        path = Path(root) / "catalina.out"
        generate(path, 4)
        return path.read_bytes().splitlines(keepends=True)


def write_keys(directory: Path, addr: str, base_port: int, nodes: int) -> asyncssh.SSHKey:
    """Host key, known_hosts with every simulated node, and the client key the fleet accepts."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(directory / "ssh_host_key")
    public = host_key.export_public_key("openssh").decode().split()[:2]
    entries = [f"[{addr}]:{base_port + i} {' '.join(public)}\n" for i in range(nodes)]
    (directory / "known_hosts").write_text("".join(entries))
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(directory / "id_client")
    (directory / "id_client").chmod(0o600)
    client.write_public_key(directory / "authorized_keys")
    return host_key


@dataclass
class Stream:
    """One simulated log being followed: the remote loop polls it every `interval` seconds."""

    interval: float
    next_poll: float
    offset: int = 0
    due: float = field(default_factory=random.random)  # lines written, not yet read


class Fleet:
    """Every open follower stream; one ticker feeds them all (no task per node)."""

    def __init__(self, lines_per_s: float, burst_bytes: int, mix: str = "storm") -> None:
        self.lines_per_s = lines_per_s
        self.burst_bytes = burst_bytes
        self.streams: dict[asyncssh.SSHServerProcess[bytes], Stream] = {}
        self.lines = tomcat_lines(5000) if mix == "storm" else busy_lines()
        self.block = b""
        if burst_bytes:
            chunk = b"".join(self.lines)
            self.block = (chunk * (4 * (1 << 20) // len(chunk) + 1))[: 4 << 20]
            self.block = self.block[: self.block.rfind(b"\n") + 1]

    async def handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        command = process.command or ""
        if SCRIPT_NAME in command:
            words = shlex.split(command)
            args = words[words.index(SCRIPT_NAME) + 1 :]  # path want offset max poll ...
            max_chunk = int(args[3])
            if self.burst_bytes:
                await self._burst(process, framed=True, max_chunk=max_chunk)
            else:
                await self._follow(process, float(args[4]))
        elif command == "burst-cat":
            await self._burst(process, framed=False, max_chunk=len(self.block))
        else:
            process.exit(0)

    async def _follow(self, process: asyncssh.SSHServerProcess[bytes], interval: float) -> None:
        process.stdout.write(f"O {INODE} 0 start\n".encode())
        now = asyncio.get_running_loop().time()
        self.streams[process] = Stream(interval, now + random.uniform(0, interval))
        try:
            await process.stdin.read()  # until the client closes the channel
        except (asyncssh.Error, OSError):
            pass
        finally:
            self.streams.pop(process, None)
            process.exit(0)

    async def ticker(self) -> None:
        loop = asyncio.get_running_loop()
        index, last = 0, loop.time()
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            written, last = self.lines_per_s * (now - last), now  # real time elapsed, not TICK
            for process, stream in list(self.streams.items()):
                stream.due += written
                if now < stream.next_poll:
                    continue
                stream.next_poll = now + stream.interval
                count = int(stream.due)
                if not count:
                    continue
                stream.due -= count
                data = b"".join(self.lines[(index + k) % len(self.lines)] for k in range(count))
                index += count
                offset, stream.offset = stream.offset, stream.offset + len(data)
                frame = f"D {INODE} {offset} {len(data)}\n".encode() + data
                try:
                    process.stdout.write(frame + f"K {len(data)}\n".encode())
                except (asyncssh.Error, OSError):
                    self.streams.pop(process, None)

    async def _burst(
        self, process: asyncssh.SSHServerProcess[bytes], *, framed: bool, max_chunk: int
    ) -> None:
        block = self.block[:max_chunk]
        block = block[: block.rfind(b"\n") + 1]
        sent = 0
        try:
            if framed:
                process.stdout.write(f"O {INODE} 0 start\n".encode())
            while sent < self.burst_bytes:
                piece = block[: min(len(block), self.burst_bytes - sent)]
                if framed:
                    piece = piece[: piece.rfind(b"\n") + 1] or piece
                    header = f"D {INODE} {sent} {len(piece)}\n".encode()
                    process.stdout.write(header + piece + f"K {len(piece)}\n".encode())
                else:
                    process.stdout.write(piece)
                sent += len(piece)
                await process.stdout.drain()
            if framed:
                await process.stdin.read()  # a follower stays open: wait for the client
        except (asyncssh.Error, OSError):
            pass
        finally:
            process.exit(0)


async def serve(args: argparse.Namespace) -> None:
    directory = Path(args.dir)
    host_key = write_keys(directory, args.addr, args.base_port, args.nodes)
    fleet = Fleet(args.lines_per_s, int(args.burst_mb * (1 << 20)), args.mix)
    for index in range(args.nodes):
        await asyncssh.listen(
            args.addr,
            args.base_port + index,
            server_host_keys=[host_key],
            authorized_client_keys=str(directory / "authorized_keys"),
            process_factory=fleet.handle,
            encoding=None,
            allow_scp=False,
            backlog=512,
        )
    ticker = asyncio.create_task(fleet.ticker())
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.read)  # run until the parent closes our stdin
    ticker.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--base-port", type=int, default=30000)
    parser.add_argument("--addr", default="127.0.6.200")
    parser.add_argument("--lines-per-s", type=float, default=10.0)
    parser.add_argument("--burst-mb", type=float, default=0.0)
    parser.add_argument(
        "--mix", choices=("storm", "busy"), default="storm", help="line mix of the burst"
    )
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * args.nodes + 256)), hard))
    behave_like_openssh()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
