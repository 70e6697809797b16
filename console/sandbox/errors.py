"""The one error type the sandbox raises: a sentence for the user, never a traceback."""


class SandboxError(Exception):
    """A sandbox step failed; the message says which piece, what happened and where to look."""
