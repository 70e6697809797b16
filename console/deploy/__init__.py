"""The deploy sync: the cluster lock, staging, preview, parallel sync and verification."""
