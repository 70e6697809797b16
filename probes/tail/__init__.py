"""Following remote logs: the framed sh follower and the journal."""
