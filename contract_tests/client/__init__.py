"""Property tests of our own client against the spec (see contract_tests/README.md)."""
