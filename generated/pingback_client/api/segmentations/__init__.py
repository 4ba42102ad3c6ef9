"""Endpoint functions of the `segmentations` operations."""
