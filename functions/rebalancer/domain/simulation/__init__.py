"""What-if simulation of rebalancing policies over a price history (pure domain)."""
