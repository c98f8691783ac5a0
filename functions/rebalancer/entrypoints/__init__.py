"""Thin entry points: callables, the scheduled function, task handlers and the CLI."""
