"""Tradable assets: the default universe, lookup by symbol or id, and their JSON."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paper_broker.history import defaults_for

US_EQUITY = "us_equity"
CRYPTO = "crypto"
ASSET_CLASSES = (US_EQUITY, CRYPTO)
# The exchanges alpaca-py's AssetExchange enum accepts.
EXCHANGES = (
    "AMEX",
    "ARCA",
    "ASCX",
    "BATS",
    "NYSE",
    "NASDAQ",
    "NYSEARCA",
    "FTXU",
    "CBSE",
    "GNSS",
    "ERSX",
    "OTC",
    "CRYPTO",
)
NEW_ASSET_PRICE = Decimal(100)


@dataclass
class Asset:
    """An asset and its current price."""

    id: str
    symbol: str
    name: str
    asset_class: str
    exchange: str
    tradable: bool
    fractionable: bool
    price: Decimal
    # The synthetic history's parameters (see ``history``); set from the symbol's defaults.
    kind: str = ""
    volatility: Decimal = Decimal(0)
    drift: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind, self.volatility, self.drift = defaults_for(self.symbol, self.is_crypto)

    @property
    def is_crypto(self) -> bool:
        """Whether the asset trades around the clock."""
        return self.asset_class == CRYPTO


def asset_id(symbol: str) -> str:
    """Return a stable id for a symbol, the same on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"paper-broker:asset:{symbol}"))


# symbol, name, class, exchange, tradable, fractionable, default price
_DEFAULTS: tuple[tuple[str, str, str, str, bool, bool, str], ...] = (
    ("SPY", "SPDR S&P 500 ETF Trust", US_EQUITY, "ARCA", True, True, "500"),
    ("QQQ", "Invesco QQQ Trust", US_EQUITY, "NASDAQ", True, True, "430"),
    ("TLT", "iShares 20+ Year Treasury Bond ETF", US_EQUITY, "NASDAQ", True, True, "95"),
    ("GLD", "SPDR Gold Shares", US_EQUITY, "ARCA", True, True, "190"),
    ("VOO", "Vanguard S&P 500 ETF", US_EQUITY, "ARCA", True, True, "460"),
    ("IVV", "iShares Core S&P 500 ETF", US_EQUITY, "ARCA", True, True, "502"),
    ("VTI", "Vanguard Total Stock Market ETF", US_EQUITY, "ARCA", True, True, "250"),
    ("VXUS", "Vanguard Total International Stock ETF", US_EQUITY, "NASDAQ", True, True, "60"),
    ("BND", "Vanguard Total Bond Market ETF", US_EQUITY, "NASDAQ", True, True, "72"),
    ("AGG", "iShares Core U.S. Aggregate Bond ETF", US_EQUITY, "ARCA", True, True, "98"),
    ("IEF", "iShares 7-10 Year Treasury Bond ETF", US_EQUITY, "NASDAQ", True, True, "94"),
    ("SHY", "iShares 1-3 Year Treasury Bond ETF", US_EQUITY, "NASDAQ", True, True, "82"),
    ("VNQ", "Vanguard Real Estate ETF", US_EQUITY, "ARCA", True, True, "85"),
    ("AAPL", "Apple Inc. Common Stock", US_EQUITY, "NASDAQ", True, True, "190"),
    ("MSFT", "Microsoft Corporation Common Stock", US_EQUITY, "NASDAQ", True, True, "410"),
    ("AMZN", "Amazon.com, Inc. Common Stock", US_EQUITY, "NASDAQ", True, True, "180"),
    ("NVDA", "NVIDIA Corporation Common Stock", US_EQUITY, "NASDAQ", True, True, "120"),
    ("BRK.A", "Berkshire Hathaway Inc. Class A", US_EQUITY, "NYSE", True, False, "620000"),
    ("DELISTED", "Delisted Example Corp.", US_EQUITY, "OTC", False, False, "1.5"),
    ("BTC/USD", "Bitcoin / US Dollar", CRYPTO, "CRYPTO", True, True, "60000"),
    ("ETH/USD", "Ethereum / US Dollar", CRYPTO, "CRYPTO", True, True, "3000"),
)


def default_assets() -> dict[str, Asset]:
    """Return the start-state universe keyed by symbol."""
    return {
        symbol: Asset(asset_id(symbol), symbol, name, cls, exchange, tradable, frac, Decimal(px))
        for symbol, name, cls, exchange, tradable, frac, px in _DEFAULTS
    }


def find_asset(assets: dict[str, Asset], key: str) -> Asset | None:
    """Find an asset by symbol (any case, ``BTCUSD`` for ``BTC/USD``) or by id."""
    wanted = key.strip().upper()
    if wanted in assets:
        return assets[wanted]
    for asset in assets.values():
        if asset.id == key.strip().lower() or asset.symbol.replace("/", "") == wanted:
            return asset
    return None


def asset_json(asset: Asset) -> dict[str, Any]:
    """Return the asset as Alpaca's ``/v2/assets`` answers it."""
    body: dict[str, Any] = {
        "id": asset.id,
        "class": asset.asset_class,
        "exchange": asset.exchange,
        "symbol": asset.symbol,
        "name": asset.name,
        "status": "active" if asset.tradable else "inactive",
        "tradable": asset.tradable,
        "marginable": not asset.is_crypto,
        "maintenance_margin_requirement": 100,
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": asset.fractionable,
        "attributes": ["fractional_eh_enabled"] if asset.fractionable else [],
    }
    if asset.is_crypto:
        body |= {"min_order_size": "0.000000001", "min_trade_increment": "0.000000001"}
        body["price_increment"] = "0.01"
    return body
