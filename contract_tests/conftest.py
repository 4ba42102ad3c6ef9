"""Shared by contract_tests/server (the server suite) and contract_tests/client; kept empty on
purpose: each part owns its fixtures in its own conftest."""
