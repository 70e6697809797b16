"""What `clusterconsole doctor` reads from a node: configuration files and a few commands, read
over the node's SSH session in one command, and parsed here (no Textual, nothing of console)."""
