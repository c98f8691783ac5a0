"""Adapters: one module per technology (Alpaca, Firestore, Cloud Tasks, in-memory)."""
