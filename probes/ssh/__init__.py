"""SSH to the nodes: targets, OpenSSH config lookups, the handshake's verdicts and the long-lived
connection.
"""
