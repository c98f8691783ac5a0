"""The control API's account requests: create, inspect, set cash, seed lots, counters."""

from __future__ import annotations

import secrets
import string
import uuid
from decimal import Decimal
from typing import Any

from paper_broker import fills
from paper_broker.broker import SimulatedBroker
from paper_broker.errors import bad_control
from paper_broker.fields import (
    decimal_field,
    only_fields,
    required_decimal,
    str_field,
    time_field,
)
from paper_broker.messages import Request, Response, ok
from paper_broker.money import decimal_places, fmt, money
from paper_broker.portfolio import buying_power
from paper_broker.state import Account, Lot
from paper_broker.timeutil import iso_z
from paper_broker.views import order_json

DEFAULT_CASH = Decimal(100_000)
_ALNUM = string.ascii_uppercase + string.digits


def _random(alphabet: str, length: int) -> str:
    """Return a random credential string."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _account(broker: SimulatedBroker, req: Request) -> Account:
    """Return the account named in the path, or 404."""
    account = broker.state.accounts.get(req.params["id"])
    if account is None:
        raise bad_control("id", f"no account {req.params['id']!r}", 404)
    return account


def summary(broker: SimulatedBroker, account: Account) -> dict[str, Any]:
    """Return the control view of an account: cash, lots and open orders."""
    return {
        "id": account.id,
        "account_number": account.account_number,
        "api_key_id": account.api_key_id,
        "cash": money(account.cash),
        "buying_power": money(buying_power(broker.state, account)),
        "lots": [
            {
                "id": lot.id,
                "symbol": lot.symbol,
                "qty": fmt(lot.qty),
                "cost_per_share": fmt(lot.cost_per_share),
                "acquired_at": iso_z(lot.acquired_at),
            }
            for lot in sorted(account.lots, key=lambda lot: (lot.symbol, lot.acquired_at))
        ],
        "open_orders": [order_json(o) for o in account.orders if o.is_open],
    }


def _unused(broker: SimulatedBroker, field: str, value: str | None) -> str | None:
    """Refuse a credential another account already uses."""
    if value is not None and any(
        getattr(account, field) == value for account in broker.state.accounts.values()
    ):
        raise bad_control(field, "is already used by another account", 409)
    return value


def create_account(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/accounts``: a new account, with generated credentials when absent."""
    body = req.json_object()
    only_fields(body, ("cash", "api_key_id", "secret_key", "oauth_token"))
    cash = decimal_field(body, "cash")
    account = Account(
        id=str(uuid.uuid4()),
        account_number="PA" + _random(string.digits, 10),
        api_key_id=_unused(broker, "api_key_id", str_field(body, "api_key_id"))
        or "PK" + _random(_ALNUM, 18),
        secret_key=str_field(body, "secret_key") or _random(_ALNUM + string.ascii_lowercase, 40),
        oauth_token=_unused(broker, "oauth_token", str_field(body, "oauth_token"))
        or str(uuid.uuid4()),
        cash=DEFAULT_CASH if cash is None else cash,
        created_at=req.now,
    )
    broker.state.accounts[account.id] = account
    body = {
        "id": account.id,
        "account_number": account.account_number,
        "api_key_id": account.api_key_id,
        "secret_key": account.secret_key,
        "oauth_token": account.oauth_token,
        "cash": money(account.cash),
    }
    return ok(body, 201)


def get_account(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /_paper/accounts/{id}``."""
    return ok(summary(broker, _account(broker, req)))


def set_cash(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/accounts/{id}/cash`` ``{cash}``."""
    account = _account(broker, req)
    body = req.json_object()
    only_fields(body, ("cash",))
    account.cash = required_decimal(body, "cash")
    return ok(summary(broker, account))


def add_lots(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/accounts/{id}/lots``: seed lots, each with a FILL buy activity."""
    account = _account(broker, req)
    body = req.json_object()
    only_fields(body, ("lots",))
    raw = body.get("lots")
    if not isinstance(raw, list) or not raw:
        raise bad_control("lots", "must be a non-empty list")
    lots = []
    for index, item in enumerate(raw):
        where = f"lots[{index}]"
        if not isinstance(item, dict):
            raise bad_control(where, "must be an object")
        only_fields(item, ("symbol", "qty", "cost_per_share", "acquired_at"), where)
        symbol = str_field(item, "symbol")
        asset = broker.state.asset(symbol) if symbol else None
        if asset is None:
            raise bad_control(f"{where}.symbol", f"unknown symbol {item.get('symbol')!r}")
        qty = required_decimal(item, "qty", positive=True, label=f"{where}.qty")
        if decimal_places(qty) > 9:
            raise bad_control(f"{where}.qty", "must have at most 9 decimal places")
        cost = required_decimal(item, "cost_per_share", label=f"{where}.cost_per_share")
        acquired = time_field(item, "acquired_at", f"{where}.acquired_at") or req.now
        lots.append(Lot(str(uuid.uuid4()), asset.symbol, qty, cost, acquired))
    for lot in lots:
        account.lots.append(lot)
        fills.add_activity(
            broker.state,
            account,
            str(uuid.uuid4()),
            lot.symbol,
            "buy",
            lot.qty,
            lot.cost_per_share,
            lot.acquired_at,
        )
    return ok(summary(broker, account))


def get_counters(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /_paper/accounts/{id}/counters``."""
    return ok(dict(sorted(_account(broker, req).counters.items())))


def clear_counters(broker: SimulatedBroker, req: Request) -> Response:
    """``DELETE /_paper/accounts/{id}/counters``."""
    _account(broker, req).counters.clear()
    return ok({})
