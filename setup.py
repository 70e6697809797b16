"""The log scanner's optional C helper; everything else about the package is in pyproject.toml.

Without a C compiler the package installs without it and `probes/logs/lines.py` falls back to
`bytes.count`, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "probes.logs._lines",
            sources=["probes/logs/_lines.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
