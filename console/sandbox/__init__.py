"""A real local cluster on loopback addresses."""
