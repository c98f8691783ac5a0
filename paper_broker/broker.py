"""The running broker: its state, faults, lock and state file."""

from __future__ import annotations

import threading
from pathlib import Path

from paper_broker.faults import FaultBook
from paper_broker.persistence import load_state, save_state
from paper_broker.state import BrokerState


class SimulatedBroker:
    """Everything a request handler needs; hold ``lock`` while touching ``state``."""

    def __init__(self, state_file: Path | None = None, history_seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.faults = FaultBook()
        # The Alpaca route templates faults may name; filled in by the router.
        self.alpaca_routes: frozenset[str] = frozenset()
        if state_file is not None and state_file.exists():
            self.state = load_state(state_file)
        else:
            self.state = BrokerState()
        if history_seed is not None:
            self.state.history_seed = history_seed
        # The seed a reset keeps (the command line's, or the last one set).
        self.history_seed = self.state.history_seed

    def reset(self) -> None:
        """Wipe everything back to the start state (the clock runs from the real time)."""
        self.state = BrokerState(history_seed=self.history_seed)
        self.faults.clear()

    def save(self) -> None:
        """Write the state file, when there is one."""
        if self.state_file is not None:
            with self.lock:
                save_state(self.state_file, self.state)
