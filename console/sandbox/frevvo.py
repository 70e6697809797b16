"""What the frevvo variant adds to each node: unloadDelay 40000 and a JGroups channel.

The app gets a small ServletContextListener (webapp/jgroups/SandboxJGroups.java, compiled once
with the Eclipse compiler Debian's Tomcat depends on) and Debian's JGroups jar (libjgroups-java);
it joins the channel `sandbox` over TCP with every other node when the app starts and leaves it
when the app stops, logging each view to catalina.out. Other variants get none of it: switching
back removes the listener, the jar and the JVM options.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

from console.sandbox.errors import SandboxError
from console.sandbox.files import write_if_changed
from console.sandbox.layout import CATALINA_HOME, JGROUPS_PORT, NodeLayout, SandboxLayout

JGROUPS_JAR = Path("/usr/share/java/jgroups.jar")
"""Debian 12's libjgroups-java (JGroups 2.12)."""
JDT_JAR = Path("/usr/share/java/eclipse-jdt-core.jar")
"""The Eclipse compiler Debian's Tomcat compiles JSPs with (libeclipse-jdt-core-java)."""
SOURCE = "SandboxJGroups.java"
UNLOAD_DELAY_MS = {"frevvo": 40000}
"""The app's Context unloadDelay per variant; 3000 ms where not listed."""
DEFAULT_UNLOAD_DELAY_MS = 3000


def unload_delay_ms(layout: SandboxLayout) -> int:
    return UNLOAD_DELAY_MS.get(layout.variant, DEFAULT_UNLOAD_DELAY_MS)


def _build_dir(layout: SandboxLayout) -> Path:
    return layout.root / "build" / "jgroups"


def _compile(layout: SandboxLayout) -> Path:
    """The listener's classes directory, compiled when the source changed (about 2 s)."""
    for needed, package in ((JGROUPS_JAR, "libjgroups-java"), (JDT_JAR, "tomcat10")):
        if not needed.exists():
            raise SandboxError(
                f"the frevvo variant needs {needed} ({package}): run `make demo` or "
                f"`apt-get install {package}`"
            )
    build = _build_dir(layout)
    source = resources.files("console.sandbox").joinpath("webapp", "jgroups", SOURCE)
    source_copy = build / "src" / SOURCE
    classes = build / "classes"
    changed = write_if_changed(source_copy, source.read_text(encoding="utf-8"))
    if changed or not (classes / "sandbox" / "SandboxJGroups.class").exists():
        shutil.rmtree(classes, ignore_errors=True)
        classpath = f"{JGROUPS_JAR}:{CATALINA_HOME / 'lib' / 'servlet-api.jar'}"
        result = subprocess.run(
            [
                "java",
                "-cp",
                str(JDT_JAR),
                "org.eclipse.jdt.internal.compiler.batch.Main",
                "-17",
                "-proc:none",
                "-nowarn",
                "-encoding",
                "UTF-8",
                "-cp",
                classpath,
                "-d",
                str(classes),
                str(source_copy),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(classes, ignore_errors=True)
            raise SandboxError(
                f"could not compile the JGroups listener (exit {result.returncode}): "
                f"{(result.stdout + result.stderr).strip()[-2000:]}"
            )
    return classes


def _copy_binary(source: Path, target: Path) -> None:
    """Copy `source` to `target` unless it already holds the same bytes."""
    data = source.read_bytes()
    try:
        if target.read_bytes() == data:
            return
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(target)


def _variant_options(layout: SandboxLayout, node: NodeLayout) -> str:
    hosts = ",".join(f"{peer.address}[{JGROUPS_PORT}]" for peer in layout.nodes)
    return (
        "# clusterconsole sandbox node "
        f"{node.name}, frevvo variant: the app's JGroups channel.\n"
        'JAVA_OPTS="$JAVA_OPTS -Djava.net.preferIPv4Stack=true '
        f"-Dsandbox.jgroups.bind={node.address} -Dsandbox.jgroups.port={JGROUPS_PORT} "
        f'-Dsandbox.jgroups.hosts={hosts}"\n'
    )


def prepare(layout: SandboxLayout, node: NodeLayout) -> None:
    """Add (frevvo) or remove (any other variant) the JGroups listener, its jar and options."""
    web_inf = node.base / "webapps" / "app" / "WEB-INF"
    options = node.base / "bin" / "setenv-variant.sh"
    if layout.variant != "frevvo":
        shutil.rmtree(web_inf / "classes" / "sandbox", ignore_errors=True)
        (web_inf / "lib" / JGROUPS_JAR.name).unlink(missing_ok=True)
        options.unlink(missing_ok=True)
        return
    classes = _compile(layout)
    for compiled in sorted((classes / "sandbox").glob("*.class")):
        _copy_binary(compiled, web_inf / "classes" / "sandbox" / compiled.name)
    _copy_binary(JGROUPS_JAR, web_inf / "lib" / JGROUPS_JAR.name)
    write_if_changed(options, _variant_options(layout, node))
