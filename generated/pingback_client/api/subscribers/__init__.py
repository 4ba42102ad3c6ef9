"""Endpoint functions of the `subscribers` operations."""
