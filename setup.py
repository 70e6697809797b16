"""The log scanner's optional C helper; everything else about the package is in pyproject.toml.

Without a C compiler the package installs without it and `probes/logs/lines.py` falls back to
`bytes.count`, with the same results.
"""

from __future__ import annotations

import os
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class AtomicBuildExt(build_ext):
    """Puts a built extension in place by renaming a complete copy over the old one.

    Copying onto the old file rewrote it in place, and a process that had it loaded (a
    long-running console scanning logs) crashed when the pages it had mapped changed under it; a
    rename leaves that process its own file."""

    def copy_file(self, infile: Any, outfile: Any, *args: Any, **kwargs: Any) -> Any:
        target = os.fspath(outfile)
        if os.path.isdir(target) or not target.endswith((".so", ".pyd")):
            return super().copy_file(infile, outfile, *args, **kwargs)
        temporary = f"{target}.{os.getpid()}.tmp"
        result = super().copy_file(infile, temporary, *args, **kwargs)
        if not self.dry_run:
            os.replace(temporary, target)
        return target, result[1]


if __name__ == "__main__":
    setup(
        ext_modules=[
            Extension(
                "probes.logs._lines",
                sources=[
                    "probes/logs/_lines.c",
                    "probes/logs/_scan.c",
                    "probes/logs/_records.c",
                    "probes/logs/_teddy.c",
                ],
                depends=["probes/logs/_lines.h"],
                extra_compile_args=["-O3"],
                optional=True,
            )
        ],
        cmdclass={"build_ext": AtomicBuildExt},
    )
