"""The sandbox as license vendor: the key its stand-in page accepts for a system key.

`clusterconsole sandbox license-key SYSTEM_KEY` prints it, so a newcomer can rehearse the whole
license wizard (request, key, activation) on the sandbox. Only the stand-in page accepts these.
"""

from __future__ import annotations

import re
from typing import TextIO

from console import exitcodes
from probes.license.standin import vendor_key

SYSTEM_KEY = re.compile(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}")
"""The stand-in page's system keys: four groups of four upper-case hexadecimal digits."""


def print_license_key(system_key: str, *, out: TextIO, err: TextIO) -> int:
    given = system_key.strip()
    if not SYSTEM_KEY.fullmatch(given):
        shown = given.encode("ascii", "backslashreplace").decode()[:40]
        err.write(
            f"clusterconsole: {shown!r} is not a stand-in system key "
            "(four groups of four hexadecimal digits, e.g. 1A2B-3C4D-5E6F-7A8B, as the node's "
            "/license/ page shows it)\n"
        )
        return exitcodes.USAGE
    out.write(vendor_key(given) + "\n")
    return exitcodes.OK
