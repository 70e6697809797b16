"""Is the Tomcat of a node running? One read-only ``ps`` over SSH, parsed here.

A Tomcat JVM is recognised by ``-Dcatalina.base=BASE`` on its command line together with
Tomcat's Bootstrap class, so another JVM on the node (or another node's Tomcat on a shared
machine) is never mistaken for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProcessState = Literal["running", "stopped", "unknown"]

PROCESS_COMMAND = "ps -eo pid=,args= 2>/dev/null || ps -o pid= -o args="
"""Every process with its whole command line (procps first, busybox as a fallback)."""

_MAIN_CLASSES = ("org.apache.catalina.startup.Bootstrap", "org.wso2.carbon.bootstrap.Bootstrap")


@dataclass(frozen=True, slots=True)
class TomcatProcess:
    """What ``ps`` showed for one node's server."""

    state: ProcessState
    pid: int | None = None
    reason: str | None = None


def parse_processes(output: bytes, catalina_base: str) -> TomcatProcess:
    """Find the JVM whose catalina.base (or carbon.home) is exactly ``catalina_base``."""
    base = catalina_base.rstrip("/") or "/"
    wanted = (f"-Dcatalina.base={base}", f"-Dcarbon.home={base}")
    for raw in output.decode("utf-8", "replace").splitlines():
        pid_text, _, args = raw.strip().partition(" ")
        if not pid_text.isdigit():
            continue
        words = args.split()
        if any(word in wanted or word.rstrip("/") in wanted for word in words) and any(
            main in words for main in _MAIN_CLASSES
        ):
            return TomcatProcess("running", int(pid_text))
    return TomcatProcess("stopped")
