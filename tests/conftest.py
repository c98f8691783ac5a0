"""Fixtures for every layer; the emulator ones fail loudly when the stack is missing."""

pytest_plugins = ["tests.stack"]
