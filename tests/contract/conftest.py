"""Broker contract fixtures: one `Broker` per backend, each on a fresh account.

The backends are the in-memory fake (`fakes.InMemoryBroker`) and the real Alpaca adapter
(`AlpacaConnector`, alpaca-py) on a paper broker this session starts on a free port. The
paper broker needs no Firebase emulator. When it cannot start, the alpaca tests fail.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest

from devstack.broker import PaperBroker
from fakes import FixedClock, InMemoryBroker
from paper_broker import market_calendar
from paper_broker.bars import Timeframe, bars_page
from paper_broker.state import BrokerState
from rebalancer.domain.models import AssetInfo, Side
from rebalancer.domain.tax import Fill
from rebalancer.service.ports import Broker, BrokerCredentials

NEW_YORK = ZoneInfo("America/New_York")
# A Tuesday, 10:00 in New York: the market is open.
BROKER_OPEN_AT = datetime(2024, 3, 12, 14, 0, tzinfo=UTC)
# A Saturday: closed until Monday 2024-03-11, 09:30 in New York.
BROKER_SATURDAY = datetime(2024, 3, 9, 15, 0, tzinfo=UTC)
BROKER_MONDAY_OPEN = datetime(2024, 3, 11, 13, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Security:
    """An asset a test trades, defined afresh on each backend."""

    price: str
    fractionable: bool = True
    tradable: bool = True


# Fictional symbols (no default asset of the paper broker is touched).
BROKER_SECURITIES = {
    "ACME": Security("100"),
    "BOLT": Security("3"),
    "WHOLE": Security("250", fractionable=False),
    "HALTED": Security("10", tradable=False),
}


@dataclass(frozen=True)
class Lot:
    """Shares held at the start: a buy fill dated `acquired_on`, cash untouched."""

    symbol: str
    qty: str
    cost_per_share: str
    acquired_on: date = date(2024, 1, 2)


class BrokerBackend(Protocol):
    """One backend's account: the `Broker` under test and the levers a test pulls."""

    name: str
    broker: Broker
    account_number: str

    def set_prices(self, **prices: str) -> None:
        """Move prices (on the paper broker, crossing limit orders of every account)."""

    def move_to(self, moment: datetime) -> None:
        """Set the (frozen) time; the market opens and closes by the NYSE calendar."""

    def advance(self, seconds: float) -> None:
        """Move the time on."""

    def seed_daily_closes(self, *symbols: str) -> None:
        """Give default assets of the paper broker the daily closes it serves up to now.

        A no-op on the paper broker; the fake gets the closes (and the latest price) that
        the paper broker's synthetic history has for these symbols, at its default seed.
        """


class MakeBrokerAccount(Protocol):
    """The factory fixture's signature."""

    def __call__(
        self,
        cash: str = "10000",
        lots: Sequence[Lot] = (),
        at: datetime = BROKER_OPEN_AT,
    ) -> BrokerBackend: ...


class MemoryBackend:
    """The in-memory fake, on a clock the test moves."""

    name = "memory"

    def __init__(self, cash: str, lots: Sequence[Lot], at: datetime) -> None:
        self.clock = FixedClock(at)
        self.account_number = "PA0CONTRACT1"
        fake = InMemoryBroker(D(cash), {}, account_number=self.account_number, clock=self.clock)
        for symbol, security in BROKER_SECURITIES.items():
            fake.prices_usd[symbol] = D(security.price)
            fake.assets[symbol] = AssetInfo(symbol, security.tradable, security.fractionable)
        for lot in lots:
            fake.qty[lot.symbol] = fake.qty.get(lot.symbol, D(0)) + D(lot.qty)
            fake.fills.append(
                Fill(
                    lot.symbol,
                    Side.BUY,
                    D(lot.qty),
                    D(lot.cost_per_share),
                    lot.acquired_on,
                    len(fake.fills),
                )
            )
        self.fake = fake
        self.broker: Broker = fake
        self.move_to(at)

    def set_prices(self, **prices: str) -> None:
        self.fake.prices_usd |= {s: D(p) for s, p in prices.items()}

    def move_to(self, moment: datetime) -> None:
        self.clock.at = moment
        self.fake.today = moment.astimezone(NEW_YORK).date()
        self.fake.market_open = market_calendar.is_open(moment)
        self.fake.next_open = market_calendar.next_open(moment)

    def advance(self, seconds: float) -> None:
        self.move_to(self.clock.at + timedelta(seconds=seconds))

    def seed_daily_closes(self, *symbols: str) -> None:
        state = BrokerState()
        now = self.clock.at
        token: str | None = None
        while True:
            query = (Timeframe(1, "Day"), datetime(1970, 1, 1, tzinfo=UTC), now, 10_000, token)
            page, token = bars_page(state, sorted(symbols), query, now)
            for symbol, bars in page.items():
                closes = self.fake.daily_closes.setdefault(symbol, [])
                closes.extend(
                    (
                        datetime.fromisoformat(bar["t"]).astimezone(NEW_YORK).date(),
                        D(str(bar["c"])),
                    )
                    for bar in bars
                )
            if token is None:
                break
        for symbol in symbols:
            self.fake.prices_usd[symbol] = state.assets[symbol].price
            self.fake.assets[symbol] = AssetInfo(symbol, True, True)


class AlpacaBackend:
    """The Alpaca adapter (alpaca-py) on a fresh account of the paper broker."""

    name = "alpaca"

    def __init__(self, paper: PaperBroker, cash: str, lots: Sequence[Lot], at: datetime) -> None:
        from rebalancer.adapters.alpaca_broker import AlpacaConnector

        self.paper = paper
        paper.control("DELETE", "/_paper/faults")
        self.move_to(at)
        for symbol, security in BROKER_SECURITIES.items():
            paper.control(
                "PUT",
                f"/_paper/assets/{symbol}",
                {
                    "price": security.price,
                    "fractionable": security.fractionable,
                    "tradable": security.tradable,
                },
            )
        account = paper.new_account(cash)
        self.account_number = str(account["account_number"])
        if lots:
            # Midday in New York, so that the fill's New York date is `acquired_on`.
            paper.seed_lots(
                account["id"],
                [
                    {
                        "symbol": lot.symbol,
                        "qty": lot.qty,
                        "cost_per_share": lot.cost_per_share,
                        "acquired_at": f"{lot.acquired_on.isoformat()}T17:00:00Z",
                    }
                    for lot in lots
                ],
            )
        self.adapter = AlpacaConnector(paper.url).connect(
            BrokerCredentials(account["api_key_id"], account["secret_key"])
        )
        self.broker: Broker = self.adapter
        self.now = at

    def set_prices(self, **prices: str) -> None:
        self.paper.control("POST", "/_paper/prices", {"prices": prices})

    def move_to(self, moment: datetime) -> None:
        self.now = moment
        self.paper.control("POST", "/_paper/clock", {"now": moment.isoformat(), "frozen": True})

    def advance(self, seconds: float) -> None:
        self.move_to(self.now + timedelta(seconds=seconds))

    def seed_daily_closes(self, *symbols: str) -> None:
        pass

    def close(self) -> None:
        """Close alpaca-py's HTTP sessions (an open socket would warn)."""
        self.adapter.trading._session.close()
        self.adapter.data._session.close()


@pytest.fixture(scope="session")
def contract_paper_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperBroker]:
    """A paper broker process of its own, on a free port (it fails the tests if it cannot)."""
    log = tmp_path_factory.mktemp("contract-paper-broker") / "paper-broker.log"
    try:
        paper = PaperBroker.start(port=0, log=log)
    except RuntimeError as error:
        pytest.fail(f"the paper broker did not start: {error}", pytrace=False)
    yield paper
    paper.stop()


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("alpaca", marks=pytest.mark.integration),
    ]
)
def make_broker_account(request: pytest.FixtureRequest) -> Iterator[MakeBrokerAccount]:
    """A factory of fresh accounts (cash, lots, a time) on this test's broker backend.

    Every account gets the `BROKER_SECURITIES` at their listed prices.
    """
    made: list[Any] = []
    paper: PaperBroker | None = None
    if request.param == "alpaca":
        paper = request.getfixturevalue("contract_paper_broker")

    def make(
        cash: str = "10000", lots: Sequence[Lot] = (), at: datetime = BROKER_OPEN_AT
    ) -> BrokerBackend:
        backend: BrokerBackend
        if paper is None:
            backend = MemoryBackend(cash, lots, at)
        else:
            backend = AlpacaBackend(paper, cash, lots, at)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        if isinstance(backend, AlpacaBackend):
            backend.close()
