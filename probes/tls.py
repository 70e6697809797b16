"""How the console trusts HTTPS servers and finds HTTP credentials the way the operator's own
machine does: the system trust store (not a bundled CA list), an inventory ``ca_file`` for an
internal CA, and ``~/.netrc`` (or ``$NETRC``) for balancer logins the inventory does not name.
"""

from __future__ import annotations

import importlib
import netrc
import os
import ssl
from pathlib import Path
from urllib.parse import urlsplit


def client_ssl(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A verifying TLS context: only ``ca_file``'s CAs when given (an internal CA), else the
    system's trust store (`truststore` when installed, which also reads macOS's and Windows'
    stores; else OpenSSL's system paths, /etc/ssl/certs on Debian). Never unverified."""
    if ca_file is not None:
        return ssl.create_default_context(cafile=os.fspath(ca_file))
    try:  # optional (pip install 'clusterconsole[tls]'): Linux's OpenSSL paths are the store
        truststore = importlib.import_module("truststore")
    except ImportError:
        return ssl.create_default_context()
    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


def netrc_path() -> Path:
    """``$NETRC`` when set (curl's and Python's convention), else ``~/.netrc``."""
    return Path(os.environ.get("NETRC") or Path("~", ".netrc").expanduser())


def netrc_auth(url: str) -> tuple[str, str] | None:
    """The netrc login for ``url``'s host (or its ``default`` entry); None when there is no
    file, no entry, or a file netrc refuses (e.g. readable by others)."""
    path = netrc_path()
    host = urlsplit(url).hostname
    if not host or not path.is_file():
        return None
    try:
        found = netrc.netrc(str(path)).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if found is None:
        return None
    login, _, password = found
    return (login, password or "") if login else None
