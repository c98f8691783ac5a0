"""`rebalancer`: the operator CLI over the same services and adapters the functions use.

Commands (see `rebalancer --help` and the README's "CLI" section): `check`, `generate`,
`execute`, `kill-switch`, `nightly`, `simulate`. Each command group is one module; the
adapters are wired in `wiring.py`, printing is in `output.py`, exit codes in `failures.py`.
"""
