"""I/O and parsing for clusterconsole: SSH, log following, balancers, database, HTTP. No Textual.

asyncssh still names DSA key types, and cryptography 47+ warns about DSA when such a name is
merely imported. The warning is about asyncssh's module, not about anything the user did, and
printed ten lines on stderr ahead of every command; it is silenced here, before any probe imports
asyncssh. A DSA key in use still fails or warns where asyncssh uses it.
"""

import warnings

warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"asyncssh(\.|$)")
