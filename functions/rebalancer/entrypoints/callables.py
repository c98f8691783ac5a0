"""The callables: parse `req.data`, take the uid from the token, call one service."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from firebase_functions import https_fn

from rebalancer.config import BROKER_CREDENTIALS_KEY
from rebalancer.entrypoints.error_mapping import answer
from rebalancer.entrypoints.timeouts import CALLABLE_TIMEOUT_S
from rebalancer.service.ports import BrokerCredentials
from rebalancer.wiring import ports

if TYPE_CHECKING:
    from rebalancer import api
    from rebalancer.domain import models
    from rebalancer.domain import settings as user_settings
    from rebalancer.domain.simulation import policies as simulation_policies
    from rebalancer.entrypoints import responses
    from rebalancer.service import (
        drift_check,
        linking,
        preferences,
        proposals,
        schedule_state,
        simulations,
        status,
        stored_plans,
        trading,
    )
    from rebalancer.service import targets as targets_service
else:  # imported by the first call that needs them (cold start: see entrypoints.lazy)
    from rebalancer.entrypoints.lazy import lazy

    api = lazy("rebalancer.api")
    models = lazy("rebalancer.domain.models")
    user_settings = lazy("rebalancer.domain.settings")
    responses = lazy("rebalancer.entrypoints.responses")
    drift_check = lazy("rebalancer.service.drift_check")
    linking = lazy("rebalancer.service.linking")
    proposals = lazy("rebalancer.service.proposals")
    stored_plans = lazy("rebalancer.service.stored_plans")
    schedule_state = lazy("rebalancer.service.schedule_state")
    simulations = lazy("rebalancer.service.simulations")
    status = lazy("rebalancer.service.status")
    simulation_policies = lazy("rebalancer.domain.simulation.policies")
    trading = lazy("rebalancer.service.trading")
    preferences = lazy("rebalancer.service.preferences")
    targets_service = lazy("rebalancer.service.targets")

Request = https_fn.CallableRequest[Any]
WITH_KEY: dict[str, Any] = {"secrets": [BROKER_CREDENTIALS_KEY]}
# Callables that run plans: their runs stop within CALLABLE_BUDGET_S and hand the rest
# to a task, so the function's timeout is far above the worst case.
RUNS_PLANS: dict[str, Any] = {**WITH_KEY, "timeout_sec": CALLABLE_TIMEOUT_S}


@https_fn.on_call(**WITH_KEY)
def link_broker(req: Request) -> dict[str, Any]:
    """Verify and store the caller's broker credentials (encrypted); never returns them."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.LinkBrokerRequest, data)
        credentials = BrokerCredentials(
            body.api_key_id, body.secret_key, body.oauth_token, paper=body.paper
        )
        return responses.linked(linking.link_broker(uid, credentials, ports()))

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def unlink_broker(req: Request) -> dict[str, Any]:
    """Forget the caller's broker credentials."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        api.parse(api.EmptyRequest, data)
        return {"unlinked": linking.unlink_broker(uid, ports())}

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def set_targets(req: Request) -> dict[str, Any]:
    """Replace the caller's target allocation atomically."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.SetTargetsRequest, data)
        wanted = [
            models.Target(
                t.symbol,
                Decimal(t.target_percent),
                None if t.threshold_percent is None else Decimal(t.threshold_percent),
                t.enabled,
                tuple(t.substitutes),
            )
            for t in body.allocations
        ]
        return responses.targets(targets_service.set_targets(uid, wanted, ports()))

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def get_targets(req: Request) -> dict[str, Any]:
    """The caller's target allocation."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        api.parse(api.EmptyRequest, data)
        return responses.targets(targets_service.get_targets(uid, ports()))

    return answer(req, run)


@https_fn.on_call(**RUNS_PLANS)
def check_rebalance_drift(req: Request) -> dict[str, Any]:
    """Measure drift and rebalance when a band is breached (unless `dry_run`)."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.DriftCheckRequest, data)
        result = drift_check.check_drift(uid, ports(), dry_run=body.dry_run)
        return responses.drift_check(result)

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def execute_trade(req: Request) -> dict[str, Any]:
    """Place one order in the caller's account, behind the kill-switch (a keyed retry: once)."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.ExecuteTradeRequest, data)
        intent = models.OrderIntent(
            symbol=body.symbol,
            side=models.Side(body.side),
            qty=None if body.qty is None else Decimal(body.qty),
            notional_usd=None if body.notional is None else Decimal(body.notional),
            order_type=models.OrderType(body.order_type),
            time_in_force=models.TimeInForce(body.time_in_force),
            limit_price_usd=None if body.limit_price is None else Decimal(body.limit_price),
        )
        result = trading.execute_trade(uid, intent, ports(), body.idempotency_key)
        return responses.order(result)

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def propose_plan(req: Request) -> dict[str, Any]:
    """Build a plan from live data, store it as `proposed` and return it."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.ProposePlanRequest, data)
        proposal = proposals.propose_plan(
            uid,
            ports(),
            user_settings.Strategy(body.strategy),
            Decimal(body.cash_to_invest),
            Decimal(body.cash_to_raise),
        )
        return responses.proposal(proposal)

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def update_settings(req: Request) -> dict[str, Any]:
    """Change any of the caller's rebalancing preferences; returns all of them."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.UpdateSettingsRequest, data)
        return responses.settings(preferences.update_settings(uid, body.changes(), ports()))

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def get_settings(req: Request) -> dict[str, Any]:
    """The caller's rebalancing preferences, defaults filled in."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        api.parse(api.EmptyRequest, data)
        return responses.settings(preferences.get_settings(uid, ports()))

    return answer(req, run)


@https_fn.on_call(**RUNS_PLANS)
def execute_plan(req: Request) -> dict[str, Any]:
    """Execute one of the caller's proposed plans; returns the plan with its orders."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.PlanRequest, data)
        result = stored_plans.run_plan(uid, body.plan_id, ports())
        return responses.plan_document(body.plan_id, result.document)

    return answer(req, run)


@https_fn.on_call(**RUNS_PLANS)
def cancel_plan(req: Request) -> dict[str, Any]:
    """Cancel one of the caller's plans (and its open orders)."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.PlanRequest, data)
        return responses.plan_document(
            body.plan_id, stored_plans.cancel_plan(uid, body.plan_id, ports())
        )

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def get_plan(req: Request) -> dict[str, Any]:
    """One of the caller's plans, with its legs and orders."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.PlanRequest, data)
        return responses.plan_document(
            body.plan_id, stored_plans.get_plan(uid, body.plan_id, ports())
        )

    return answer(req, run)


@https_fn.on_call(**WITH_KEY)
def get_schedule(req: Request) -> dict[str, Any]:
    """The caller's schedule: next date, last run, pending breach, goal progress."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        api.parse(api.EmptyRequest, data)
        return responses.schedule(schedule_state.get_schedule(uid, ports()))

    return answer(req, run)


@https_fn.on_call(**RUNS_PLANS)
def simulate_rebalancing(req: Request) -> dict[str, Any]:
    """Replay the caller's portfolio under each policy; returns every policy's figures."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        body = api.parse(api.SimulateRequest, data)
        policies = None
        if body.policies is not None:
            policies = tuple(
                simulation_policies.policy_from_spec(spec, f"policies.{index}")
                for index, spec in enumerate(body.policies)
            )
        result = simulations.simulate_for_user(
            uid,
            ports(),
            years=body.years,
            policies=policies,
            monthly_flow_usd=Decimal(body.monthly_flow),
            tracking_penalty_bps=_decimal_or_none(body.tracking_penalty_bps),
            template_value_usd=_decimal_or_none(body.template_value),
        )
        return responses.simulation(result)

    return answer(req, run)


@https_fn.on_call()
def get_status(req: Request) -> dict[str, Any]:
    """Whether trading is on (the kill-switch, as users may see it) and the caller's link."""

    def run(uid: str, data: Any) -> dict[str, Any]:
        api.parse(api.EmptyRequest, data)
        return responses.app_status(status.app_status(uid, ports()))

    return answer(req, run)


def _decimal_or_none(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(value)
