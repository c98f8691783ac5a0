"""A local, Alpaca-compatible paper broker for development and tests (standard library only).

See docs/paper-broker.md for what it serves and how to drive it.
"""
