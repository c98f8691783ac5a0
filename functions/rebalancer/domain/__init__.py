"""Pure domain: models and decisions, no I/O (no firebase, google, alpaca or requests)."""
