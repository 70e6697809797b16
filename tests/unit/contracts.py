"""The JSON contracts the README promises, written once for every test that checks them."""

WORKER_KEYS: set[str] = {
    "url",
    "route",
    "redirect",
    "factor",
    "lbset",
    "status",
    "flags",
    "usable",
    "draining",
    "disabled",
    "standby",
    "elected",
    "busy",
    "load",
    "to_bytes",
    "from_bytes",
}
"""Keys of one worker in `balancer --json` and in `status --json` balancers."""
