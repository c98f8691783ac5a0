"""Validation messages say what each field expects (issue 12: not "a valid symbol" for all)."""

from __future__ import annotations

import pytest

from rebalancer import api
from rebalancer.domain.errors import InvalidInput

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (api.PlanRequest, {"plan_id": "../x"}, "plan_id: is not a plan id"),
        (api.NightTask, {"uid": "u", "night": "tonight"}, "night: is not a date (YYYY-MM-DD)"),
        (
            api.UpdateSettingsRequest,
            {"goal": {"name": "x", "target_amount": 10, "target_date": "soon"}},
            "goal.target_date: is not a date (YYYY-MM-DD)",
        ),
        (
            api.ExecuteTradeRequest,
            {"symbol": "spy", "side": "buy", "qty": 1},
            "symbol: is not a valid symbol",
        ),
    ],
)
def test_a_pattern_mismatch_says_what_the_field_expects(
    model: type[api.StrictSchema], data: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        api.parse(model, data)
    assert str(refused.value).startswith(message), str(refused.value)


def test_the_alpaca_adapter_names_the_refusals_the_engine_acts_on() -> None:
    from rebalancer.adapters.alpaca_broker import broker_error
    from rebalancer.domain.errors import BrokerRejected, BuyingPowerShort, DuplicateOrderId

    short = broker_error(403, '{"code": 40310000, "message": "insufficient buying power"}')
    duplicate = broker_error(422, '{"code": 40010001, "message": "client_order_id must be unique"}')
    halted = broker_error(422, '{"code": 40010001, "message": "asset is halted"}')
    assert isinstance(short, BuyingPowerShort) and isinstance(duplicate, DuplicateOrderId)
    assert type(halted) is BrokerRejected
