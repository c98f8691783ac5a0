"""Rebalancing backend: a pure domain core, services, adapters and thin entry points."""
