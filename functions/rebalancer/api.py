"""Request schemas of the callables: strict parsing, and errors that name the field.

Numbers arrive as JSON numbers; strings, booleans, NaN, infinity and out-of-range
values are refused here, before anything reaches a service or the broker.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
    model_validator,
)

from rebalancer.domain.allocation_rules import (
    MAX_SUBSTITUTES,
    MAX_TARGETS,
    MIN_PERCENT,
    MIN_QTY,
    MIN_USD,
    QTY_DECIMALS,
    SYMBOL_PATTERN,
)
from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.settings import PREFERENCES, GoalPriority, Kind, Preference

MAX_QTY = Decimal(1_000_000_000)
MAX_NOTIONAL_USD = Decimal(1_000_000_000)
MAX_PRICE_USD = Decimal(10_000_000)


def _to_decimal(value: float | int) -> Decimal:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return Decimal(str(value))


def _positive(limit: Decimal, floor: Decimal) -> Any:
    """A number in [floor, limit]: tiny positive values (1e-25) are refused too."""

    def check(value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        if value < floor:
            raise ValueError(f"must be at least {floor}")
        if value > limit:
            raise ValueError(f"must be at most {limit}")
        return value

    return AfterValidator(check)


def _non_negative(limit: Decimal, floor: Decimal | None = None) -> Any:
    """A number in [0, limit]; with a floor, 0 or at least the floor."""

    def check(value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must be 0 or more")
        if floor is not None and 0 < value < floor:
            raise ValueError(f"must be 0 or at least {floor}")
        if value > limit:
            raise ValueError(f"must be at most {limit}")
        return value

    return AfterValidator(check)


def _places(decimals: int) -> Any:
    def check(value: Decimal) -> Decimal:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -decimals:
            raise ValueError(f"must have at most {decimals} decimals")
        return value

    return AfterValidator(check)


Number = Annotated[StrictInt | StrictFloat, AfterValidator(_to_decimal)]
Symbol = Annotated[StrictStr, Field(pattern=SYMBOL_PATTERN)]
Percent = Annotated[Number, _positive(Decimal(100), MIN_PERCENT)]


class StrictSchema(BaseModel):
    """Base of every request: unknown fields are refused, values are never coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetIn(StrictSchema):
    """One target of `set_targets`; substitutes are bought instead when a wash sale forbids."""

    symbol: Symbol
    target_percent: Percent
    threshold_percent: Percent | None = None
    enabled: StrictBool = True
    substitutes: Annotated[list[Symbol], Field(max_length=MAX_SUBSTITUTES)] = []


class SetTargetsRequest(StrictSchema):
    """`set_targets`: replaces the whole allocation."""

    allocations: Annotated[list[TargetIn], Field(min_length=1, max_length=MAX_TARGETS)]

    @model_validator(mode="after")
    def _rules(self) -> SetTargetsRequest:
        symbols = [t.symbol for t in self.allocations]
        symbols += [s for t in self.allocations for s in t.substitutes]
        duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
        if duplicates:
            raise InvalidInput("allocations", f"duplicate symbols: {', '.join(duplicates)}")
        total = sum((Decimal(t.target_percent) for t in self.allocations if t.enabled), Decimal(0))
        if abs(total - 100) > Decimal("0.01"):
            raise InvalidInput(
                "allocations", f"enabled targets must sum to 100 (within 0.01), got {total}"
            )
        return self


class LinkBrokerRequest(StrictSchema):
    """`link_broker`: an API key pair or an OAuth token, and paper or live."""

    api_key_id: Annotated[StrictStr, Field(min_length=1, max_length=256)] | None = None
    secret_key: Annotated[StrictStr, Field(min_length=1, max_length=256)] | None = None
    oauth_token: Annotated[StrictStr, Field(min_length=1, max_length=4096)] | None = None
    paper: StrictBool = True

    @model_validator(mode="after")
    def _one_method(self) -> LinkBrokerRequest:
        has_pair = self.api_key_id is not None or self.secret_key is not None
        if has_pair and self.oauth_token is not None:
            raise InvalidInput("oauth_token", "give an API key pair or oauth_token, not both")
        if self.oauth_token is None and self.api_key_id is None:
            raise InvalidInput("api_key_id", "is required (or give oauth_token)")
        if self.oauth_token is None and self.secret_key is None:
            raise InvalidInput("secret_key", "is required with api_key_id")
        return self


class DriftCheckRequest(StrictSchema):
    """`check_rebalance_drift`."""

    dry_run: StrictBool = False


class ExecuteTradeRequest(StrictSchema):
    """`execute_trade`: one order in the caller's account."""

    symbol: Symbol
    side: Literal["buy", "sell"]
    qty: Annotated[Number, _positive(MAX_QTY, MIN_QTY), _places(QTY_DECIMALS)] | None = None
    notional: Annotated[Number, _positive(MAX_NOTIONAL_USD, MIN_USD)] | None = None
    order_type: Literal["market", "limit"] = "market"
    time_in_force: Literal["day", "gtc", "opg", "cls", "ioc", "fok"] = "day"
    limit_price: Annotated[Number, _positive(MAX_PRICE_USD, MIN_USD)] | None = None
    idempotency_key: StrictStr | None = None

    @model_validator(mode="after")
    def _rules(self) -> ExecuteTradeRequest:
        key = self.idempotency_key
        # [A-Za-z0-9_-]{1,64}: '-' and '_' stand in for a letter in the alphanumeric test.
        plain = None if key is None else key.replace("-", "a").replace("_", "a")
        if plain is not None and not (0 < len(plain) <= 64 and plain.isascii() and plain.isalnum()):
            raise InvalidInput("idempotency_key", "must be 1 to 64 characters of A-Z a-z 0-9 _ -")
        if self.qty is not None and self.notional is not None:
            raise InvalidInput("notional", "give either qty or notional, not both")
        if self.qty is None and self.notional is None:
            raise InvalidInput("qty", "is required (or give notional)")
        if self.order_type == "limit" and self.limit_price is None:
            raise InvalidInput("limit_price", "is required for a limit order")
        if self.order_type == "market" and self.limit_price is not None:
            raise InvalidInput("limit_price", "is only for limit orders")
        if self.notional is not None and self.order_type != "market":
            raise InvalidInput("notional", "notional orders must be market orders")
        return self


class ProposePlanRequest(StrictSchema):
    """`propose_plan`: a strategy (default: the user's) and optional cash flows."""

    strategy: Literal["auto", "full", "threshold", "band", "cash_flow", "tax_aware"] = "auto"
    cash_to_invest: Annotated[Number, _non_negative(MAX_NOTIONAL_USD, MIN_USD)] = 0
    cash_to_raise: Annotated[Number, _non_negative(MAX_NOTIONAL_USD, MIN_USD)] = 0

    @model_validator(mode="after")
    def _one_flow(self) -> ProposePlanRequest:
        if self.cash_to_invest and self.cash_to_raise:
            raise InvalidInput("cash_to_raise", "give cash_to_invest or cash_to_raise, not both")
        return self


IsoDate = Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class GoalIn(StrictSchema):
    """A savings goal."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    target_amount: Annotated[Number, _positive(MAX_NOTIONAL_USD, MIN_USD)]
    target_date: IsoDate
    priority: GoalPriority = GoalPriority.MEDIUM
    monthly_contribution: Annotated[Number, _non_negative(MAX_NOTIONAL_USD, MIN_USD)] | None = None
    start_value: Annotated[Number, _non_negative(MAX_NOTIONAL_USD, MIN_USD)] | None = None

    @model_validator(mode="after")
    def _real_date(self) -> GoalIn:
        try:
            date.fromisoformat(self.target_date)
        except ValueError:
            raise InvalidInput("goal.target_date", "is not a real date") from None
        return self


class SettingsRequest(StrictSchema):
    """`update_settings`: any subset of the rebalancing preferences; the rest stay.

    Its fields come from `rebalancer.domain.settings.PREFERENCES`, built on first use
    (`UpdateSettingsRequest`), so only `update_settings` pays for this schema.
    """

    @model_validator(mode="after")
    def _no_nulls(self) -> SettingsRequest:
        nullable = {p.name for p in PREFERENCES if p.nullable}
        for name in sorted(self.model_fields_set - nullable):
            if getattr(self, name) is None:
                raise InvalidInput(name, "must not be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the caller sent, as stored (numbers as floats).

        An explicit null `tax_limit_usd` removes the limit.
        """
        sent = self.model_dump(exclude_unset=True, warnings=False)  # Decimals in number fields

        def plain(value: object) -> object:
            if isinstance(value, Decimal):
                return float(value)
            if isinstance(value, StrEnum):  # a goal's priority: stored as its string
                return value.value
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        stored = {p.name: p.document_field for p in PREFERENCES}
        return {stored[k]: plain(v) for k, v in sent.items()}


def _number_check(preference: Preference) -> Any:
    """The range check of a number preference, with the messages every number gets."""
    low, high = preference.low, preference.high
    assert low is not None and high is not None, preference.name  # every number is bounded
    if preference.zero_allowed:
        return _non_negative(high, low)
    if low == 0:
        return _non_negative(high)
    return _positive(high, low)


def _settings_field(preference: Preference) -> Any:
    """The request type of one preference (every one optional: absent means unchanged)."""
    kind = preference.kind
    if kind is Kind.NUMBER:
        return Annotated[Number, _number_check(preference)]
    if kind is Kind.INTEGER:
        assert preference.low is not None and preference.high is not None
        return Annotated[StrictInt, Field(ge=int(preference.low), le=int(preference.high))]
    if kind is Kind.BOOLEAN:
        return StrictBool
    if kind is Kind.CHOICE:
        # A Literal of the values: the refusal lists them ("Input should be 'fifo', ...").
        return Literal[tuple(c.value for c in preference.choices)]
    return GoalIn


@cache
def _update_settings_request() -> type[SettingsRequest]:
    fields: dict[str, Any] = {p.name: (_settings_field(p) | None, None) for p in PREFERENCES}
    return create_model(
        "UpdateSettingsRequest",
        __base__=SettingsRequest,
        __doc__=SettingsRequest.__doc__,
        __module__=__name__,
        **fields,
    )


if TYPE_CHECKING:
    UpdateSettingsRequest: type[SettingsRequest]
else:

    def __getattr__(name: str) -> Any:
        """`UpdateSettingsRequest`, built from the declaration when first asked for."""
        if name == "UpdateSettingsRequest":
            return _update_settings_request()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PlanId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9]{1,40}$")]


MAX_SIMULATED_YEARS = 10
MAX_SIMULATED_POLICIES = 20


def _signed(limit: Decimal) -> Any:
    """A number in [-limit, limit] (a cash flow: negative is withdrawn)."""

    def check(value: Decimal) -> Decimal:
        if abs(value) > limit:
            raise ValueError(f"must be from -{limit} to {limit}")
        return value

    return AfterValidator(check)


class SimulateRequest(StrictSchema):
    """`simulate_rebalancing`: how many years back, which policies, the cash flows."""

    years: Annotated[StrictInt, Field(ge=1, le=MAX_SIMULATED_YEARS)] = 5
    # Each policy is checked by `simulation.policies.policy_from_spec` (it names the field).
    policies: (
        Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_SIMULATED_POLICIES)]
        | None
    ) = None
    monthly_flow: Annotated[Number, _signed(MAX_NOTIONAL_USD)] = 0
    template_value: Annotated[Number, _positive(MAX_NOTIONAL_USD, MIN_USD)] | None = None
    tracking_penalty_bps: Annotated[Number, _non_negative(Decimal(10_000))] | None = None


class PlanRequest(StrictSchema):
    """`execute_plan`, `cancel_plan`, `get_plan`: one of the caller's plans."""

    plan_id: PlanId


class PlanTask(StrictSchema):
    """The body of an `executePlanTask`: whose plan, which plan."""

    uid: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    plan_id: PlanId


class NightTask(StrictSchema):
    """The body of a `rebalanceUser` task: whose night, which night."""

    uid: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    night: Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class EmptyRequest(StrictSchema):
    """A callable that takes no fields."""


R = TypeVar("R", bound=StrictSchema)


def parse(model: type[R], data: Any) -> R:
    """Parse callable data into `model`, raising `InvalidInput` that names the field.

    Args:
        model: The request schema.
        data: `req.data` as the callable received it (None counts as `{}`).

    Returns:
        The parsed request.

    Raises:
        InvalidInput: If the data does not fit the schema.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("data", "must be an object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(_field(first["loc"]), _message(first)) from None


def _field(loc: tuple[int | str, ...]) -> str:
    # Union members show up in the location as tags ("int", "float", "function-after[...]").
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p in _TAGS or "[" in p))]
    return ".".join(parts) or "data"


_TAGS = {"int", "float", "str", "bool", "list", "dict"}
_TYPE_NAMES = {
    "int_type": "a number",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "a boolean",
    "list_type": "a list",
    "model_type": "an object",
    "dict_type": "an object",
}


# What a pattern expects, said per field (a plan id is not "a valid symbol").
_PATTERN_MESSAGES = {
    "plan_id": "is not a plan id (1 to 40 letters and digits)",
    "night": "is not a date (YYYY-MM-DD)",
    "target_date": "is not a date (YYYY-MM-DD)",
    "idempotency_key": "must be 1 to 64 letters, digits, '-' or '_'",
}


def _message(error: Any) -> str:
    kind = str(error["type"])
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        names = [str(p) for p in error["loc"] if isinstance(p, str)]
        return _PATTERN_MESSAGES.get(names[-1] if names else "", "is not a valid symbol")
    if kind == "int_type" and error["loc"][-1] != "int":
        # An integer field alone (a number field is a union, its first member tagged "int").
        return "must be a whole number"
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
