"""Start the paper broker as a process and drive its control API."""

from __future__ import annotations

import select
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from devstack.http import request

ROOT = Path(__file__).resolve().parents[1]
# functions/.env.local points the functions at this address.
BROKER_PORT = 8787
READY = "paper-broker listening on "
LOG = ROOT / ".tools" / "paper-broker.log"


@dataclass
class PaperBroker:
    """A running paper broker process."""

    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, port: int = BROKER_PORT, log: Path = LOG) -> PaperBroker:
        """Start the paper broker (`python -m paper_broker`) and wait for its ready line.

        Its stderr goes to `log`.
        """
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "paper_broker", "--port", str(port)],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith(READY):
            process.kill()
            process.wait()
            process.stdout.close()
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"paper broker did not start on port {port}: {tail}")
        return cls(process, line.removeprefix(READY).strip())

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A control-API request that must succeed."""
        status, answer = request(method, self.url + path, body)
        if status >= 300:
            raise RuntimeError(f"paper broker {method} {path}: {status} {answer}")
        return answer

    def new_account(self, cash_usd: str) -> dict[str, Any]:
        """Create an account; returns its id and credentials."""
        account: dict[str, Any] = self.control("POST", "/_paper/accounts", {"cash": cash_usd})
        return account

    def seed_lots(self, account_id: str, lots: list[dict[str, str]]) -> None:
        """Add tax lots (symbol, qty, cost_per_share, and acquired_at or held_days).

        `held_days` dates a lot back from the broker's clock, so that seeded holding
        periods mean the same at any simulated date.
        """
        today = self.now().date()
        dated = [
            {k: v for k, v in lot.items() if k != "held_days"}
            | {"acquired_at": (today - timedelta(days=int(lot["held_days"]))).isoformat()}
            if "held_days" in lot
            else lot
            for lot in lots
        ]
        self.control("POST", f"/_paper/accounts/{account_id}/lots", {"lots": dated})

    def now(self) -> datetime:
        """The broker's clock (the time the functions run at in the emulator)."""
        clock: dict[str, Any] = self.control("GET", "/_paper/clock")
        return datetime.fromisoformat(str(clock["now"]).replace("Z", "+00:00"))

    def set_clock(self, moment: datetime) -> None:
        """Move the broker's clock (and so the functions') to `moment`, running."""
        self.control("POST", "/_paper/clock", {"now": moment.isoformat(), "frozen": False})

    def open_market(self) -> None:
        """Move the clock to a time the market is open."""
        self.control("POST", "/_paper/clock", {"market": "open"})

    def counters(self, account_id: str) -> dict[str, int]:
        """Requests per route for an account."""
        counts: dict[str, int] = self.control("GET", f"/_paper/accounts/{account_id}/counters")
        return counts
