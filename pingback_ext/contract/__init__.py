"""The contract feature: what `pingback contract` tests, how it reports, records and replays.

Only `pingback contract` and the server suite (contract_tests/server, shipped in the wheel as
`pingback_ext/contract/suite`) import these modules; the client core never does.
"""
