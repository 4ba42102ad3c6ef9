"""Code generation for the Pingback client: derive a clean spec, diff it, generate the client.

Run through `scripts/regenerate`; see `regenerate.py`.
"""
