"""The process exit codes every mode uses (documented in `--help` and the README)."""

OK = 0
"""Everything asked for was done; the cluster is healthy."""
PROBLEMS = 1
"""The cluster has problems, or an operation failed or timed out."""
USAGE = 2
"""Bad command line, bad or missing configuration, or a mode not available yet."""
REFUSED = 3
"""Refused by a safety check (read-only watch mode, the last serving member, ...)."""
