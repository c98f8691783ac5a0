"""A synthetic daily history before a symbol's recorded prices: seeded, correlated GBM.

Each stock's daily log return is ``(drift - vol**2 / 2) / 252 + vol / sqrt(252) * z``, with
``z = market * m + rates * r + crypto * c + idio * sqrt(1 - m**2 - r**2 - c**2)``: three
shared factors and the symbol's own noise, all standard normal, so that ``z`` is too and
two symbols' returns correlate by ``m1 * m2 + r1 * r2 + c1 * c2``. The loadings come with
the asset's kind; the volatility and drift are the asset's own (its kind's by default).

Every normal draw belongs to (seed, stream, year): the factors' streams are shared by all
symbols, the rest are the symbol's. A draw therefore depends on nothing but the seed, the
symbol and the session, whatever was asked before. The path is built backwards from the
anchor: the last synthetic close, on the session before the anchor day, is the price the
symbol had when its recorded history began (its first price change, or now when there
was none), so the synthetic bars join the recorded ones without a jump.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from paper_broker import market_calendar as mc
from paper_broker.timeutil import ET

DEFAULT_SEED = 2026
# How far back the synthetic history goes from its anchor.
YEARS = 20
TRADING_DAYS = 252
MAX_VOLATILITY = Decimal(3)
MAX_DRIFT = Decimal(1)
# Bars of how many (symbol, parameters, anchor) histories are kept.
_CACHE_SIZE = 256
_FACTORS = ("market", "rates", "crypto")
# An open's gap from the last close, and a high's or low's reach past the body, in daily vols.
_GAP = 0.3
_REACH = 0.6
# Invented volume: about this many dollars trade on an ordinary day.
_DOLLAR_VOLUME = 2.0e8


@dataclass(frozen=True)
class Kind:
    """Defaults of a kind of asset: annual volatility and drift, and factor loadings."""

    volatility: Decimal
    drift: Decimal
    loadings: tuple[float, float, float]


KINDS: dict[str, Kind] = {
    "equity_etf": Kind(Decimal("0.17"), Decimal("0.08"), (0.95, 0.0, 0.0)),
    "bond_etf": Kind(Decimal("0.07"), Decimal("0.03"), (-0.15, 0.9, 0.0)),
    "gold": Kind(Decimal("0.15"), Decimal("0.05"), (0.05, 0.3, 0.0)),
    "real_estate": Kind(Decimal("0.2"), Decimal("0.07"), (0.7, 0.3, 0.0)),
    "stock": Kind(Decimal("0.3"), Decimal("0.1"), (0.65, 0.0, 0.0)),
    "crypto": Kind(Decimal("0.6"), Decimal("0.2"), (0.3, 0.0, 0.8)),
}
# kind, and volatility and drift where the symbol's differ from its kind's.
SYMBOL_DEFAULTS: dict[str, tuple[str, str | None, str | None]] = {
    "SPY": ("equity_etf", None, None),
    "VOO": ("equity_etf", None, None),
    "IVV": ("equity_etf", None, None),
    "VTI": ("equity_etf", "0.18", None),
    "QQQ": ("equity_etf", "0.21", "0.1"),
    "VXUS": ("equity_etf", "0.16", "0.05"),
    "TLT": ("bond_etf", "0.14", None),
    "BND": ("bond_etf", None, None),
    "AGG": ("bond_etf", None, None),
    "IEF": ("bond_etf", "0.08", None),
    "SHY": ("bond_etf", "0.02", "0.02"),
    "GLD": ("gold", None, None),
    "VNQ": ("real_estate", None, None),
    "NVDA": ("stock", "0.5", "0.2"),
    "BRK.A": ("stock", "0.2", None),
    "DELISTED": ("stock", "0.6", "-0.1"),
}


def defaults_for(symbol: str, crypto: bool) -> tuple[str, Decimal, Decimal]:
    """Return the kind, volatility and drift a new asset starts with."""
    kind_name, vol, drift = SYMBOL_DEFAULTS.get(
        symbol, ("crypto" if crypto else "stock", None, None)
    )
    kind = KINDS[kind_name]
    return (
        kind_name,
        kind.volatility if vol is None else Decimal(vol),
        kind.drift if drift is None else Decimal(drift),
    )


@lru_cache(maxsize=128)
def _year_days(year: int) -> tuple[date, ...]:
    """Return the trading days of a year."""
    return tuple(s.day for s in mc.year_sessions(year))


@lru_cache(maxsize=4096)
def _draws(seed: int, stream: str, year: int, per_day: int) -> tuple[float, ...]:
    """Return ``per_day`` standard normal draws per trading day of a year, day by day."""
    rng = random.Random(f"paper-broker|{seed}|{stream}|{year}")
    return tuple(rng.gauss(0.0, 1.0) for _ in range(per_day * len(_year_days(year))))


# open, high, low, close, volume, trade count, volume-weighted price
BarValues = tuple[float, float, float, float, int, int, float]


@dataclass(frozen=True)
class Params:
    """What a symbol's synthetic history depends on."""

    seed: int
    symbol: str
    kind: str
    volatility: Decimal
    drift: Decimal
    anchor_day: date
    anchor_price: Decimal


@dataclass(frozen=True)
class SyntheticHistory:
    """A symbol's synthetic daily bars, for the trading days before ``anchor_day``."""

    anchor_day: date
    first_day: date
    bars: dict[date, BarValues]

    def bar(self, day: date) -> BarValues | None:
        """Return the bar of a trading day, or None outside the synthetic span."""
        return self.bars.get(day)


def _window(anchor_day: date) -> list[date]:
    """Return the trading days of the ``YEARS`` before the anchor day (excluded)."""
    try:
        first = anchor_day.replace(year=anchor_day.year - YEARS)
    except ValueError:  # February 29
        first = anchor_day.replace(year=anchor_day.year - YEARS, day=28)
    days: list[date] = []
    for year in range(first.year, anchor_day.year + 1):
        days.extend(d for d in _year_days(year) if first <= d < anchor_day)
    return days


def _by_day(seed: int, stream: str, days: list[date], per_day: int) -> list[tuple[float, ...]]:
    """Return each day's ``per_day`` draws of a stream."""
    out: list[tuple[float, ...]] = []
    year = -1
    index: dict[date, int] = {}
    draws: tuple[float, ...] = ()
    for day in days:
        if day.year != year:
            year = day.year
            draws = _draws(seed, stream, year, per_day)
            index = {d: i for i, d in enumerate(_year_days(year))}
        at = index[day] * per_day
        out.append(draws[at : at + per_day])
    return out


def build(params: Params) -> SyntheticHistory:
    """Generate the synthetic bars of a symbol (see the module docstring)."""
    days = _window(params.anchor_day)
    if not days:
        return SyntheticHistory(params.anchor_day, params.anchor_day, {})
    loadings = KINDS[params.kind].loadings
    idio_loading = math.sqrt(max(0.0, 1.0 - sum(b * b for b in loadings)))
    vol = float(params.volatility)
    daily_vol = vol / math.sqrt(TRADING_DAYS)
    mean = (float(params.drift) - vol * vol / 2) / TRADING_DAYS
    factors = [
        [d[0] for d in _by_day(params.seed, name, days, 1)]
        for name, loading in zip(_FACTORS, loadings, strict=True)
        if loading
    ]
    used = [b for b in loadings if b]
    idio = _by_day(params.seed, f"{params.symbol}|idio", days, 1)
    extra = _by_day(params.seed, f"{params.symbol}|bar", days, 4)
    returns = []
    for k in range(len(days)):
        z = idio_loading * idio[k][0]
        for series, loading in zip(factors, used, strict=True):
            z += loading * series[k]
        returns.append(mean + daily_vol * z)
    # Backwards from the anchor: close[k - 1] = close[k] * exp(-return[k]).
    price = float(params.anchor_price)
    closes = [0.0] * len(days)
    level = price
    for k in range(len(days) - 1, -1, -1):
        closes[k] = level
        level *= math.exp(-returns[k])
    bars: dict[date, BarValues] = {}
    previous = level
    for k, day in enumerate(days):
        gap, up, down, noise = extra[k]
        close = closes[k]
        open_ = previous * math.exp(_GAP * daily_vol * gap)
        high = max(open_, close) * math.exp(_REACH * daily_vol * abs(up))
        low = min(open_, close) * math.exp(-_REACH * daily_vol * abs(down))
        surprise = abs(returns[k] - mean) / daily_vol if daily_vol else 0.0
        volume = max(100, int(_DOLLAR_VOLUME / close * math.exp(0.3 * noise) * (1 + surprise / 2)))
        bars[day] = (
            round(open_, 4),
            round(high, 4),
            round(low, 4),
            price if k == len(days) - 1 else round(close, 4),
            volume,
            max(1, volume // 100),
            round((high + low + close) / 3, 4),
        )
        previous = close
    return SyntheticHistory(params.anchor_day, days[0], bars)


_cache: OrderedDict[Params, SyntheticHistory] = OrderedDict()


def history(params: Params) -> SyntheticHistory:
    """Return a symbol's synthetic history, from the cache when it was built before."""
    found = _cache.get(params)
    if found is not None:
        _cache.move_to_end(params)
        return found
    made = build(params)
    _cache[params] = made
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return made


def anchor(first_recorded: datetime | None, now: datetime) -> date:
    """Return the anchor day: when recorded prices begin (the first change, else now)."""
    moment = now if first_recorded is None else min(first_recorded, now)
    return moment.astimezone(ET).date()
