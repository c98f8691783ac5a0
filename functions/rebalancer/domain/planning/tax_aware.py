"""The tax-aware strategy: least tax plus cost that puts every asset in its band.

The plan also keeps the cash buffer. It is solved exactly as a mixed-integer linear
program (scipy's HiGHS, imported only when a tax-aware plan is built).

Per symbol the decision is how many dollars to buy, and how many to sell from each lot.
A sale cannot choose its lots: the broker relieves them in its order (FIFO, LIFO or
HIFO), so the lots are segments that must fill in that order. Where the tax per dollar
falls along that order (a cheap lot behind a dear one), binaries enforce the order; where
it rises, the LP fills cheapest first by itself, so runs of rising cost need none.

Tax rules: lots past one that would realize a short-term gain (when avoided) or a loss
within 30 days of a purchase are out of reach; a symbol sold at a loss in the last 30
days cannot be bought (a substitute can), and one plan never both buys a symbol and sells
it at a loss. Bands are soft with a large penalty, so that when a rule makes a band
unreachable the plan still honours the rule and says which rule bound.

Whole-share assets trade whole shares inside the program (integer share counts), so the
plan found is the least-tax one among the plans a broker accepts, not a fractional plan
rounded afterwards. The objective is in dollars and the solver proves its plan within
half a cent of the optimum, whatever the portfolio's size. A band's edges are measured
after the plan's own costs (the spread shrinks the portfolio), and aimed
`band_margin_percent` of the band's width inside them (default 0: the edge itself).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from rebalancer.domain.drift import band_percent
from rebalancer.domain.models import ZERO
from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.planning.sizing import finalize, sell_cap
from rebalancer.domain.settings import Strategy

BAND_PENALTY = 10.0  # per dollar outside a band: far above any tax rate
CASH_PENALTY = 100.0  # the buffer matters more than a band: below it, orders fail
TIE_BREAK = 1e-6  # per dollar traded: among equal plans, trade less
EDGE_SAFETY_USD = 0.02  # aim this far inside each edge: values are rounded to cents after
GAP_USD = 0.005  # the solver proves its plan within this of the optimum, in dollars
TOLERANCE_USD = 0.001  # how far a row may be off, in dollars (HiGHS allows down to 1e-10)
MIN_TOLERANCE = 1e-10
TIME_LIMIT_S = 2.0
FEASIBLE = 1e-9
NEGLIGIBLE = 1e-5  # of the portfolio: a lot this small is folded into the next one
BIG = 1e3  # upper bound of an unbounded column, in portfolio fractions


@dataclass
class _Model:
    """The MILP in triplet form, built column by column."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)

    def var(self, cost: float, upper: float, lower: float = 0.0, integer: bool = False) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(max(upper, lower))
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: dict[int, float], low: float, high: float) -> None:
        self.rows.append((terms, low, high))

    def lowest_is_optimal(self) -> bool:
        """True when every column at its lower bound is feasible and no cost is negative.

        Then no move can lower the objective: the forced trades alone are the optimum,
        which is the common case (cash covers the buys) and needs no solver.
        """
        if min(self.cost, default=0.0) < 0:
            return False
        return all(self.row_holds(r) for r in range(len(self.rows)))

    def row_holds(self, r: int) -> bool:
        """True when row `r` holds with every column at its lower bound."""
        terms, low, high = self.rows[r]
        activity = sum(coef * self.lower[i] for i, coef in terms.items())
        return low - FEASIBLE <= activity <= high + FEASIBLE


@dataclass
class _Symbol:
    """The columns of one symbol: its buy, and its sell segments.

    For a whole-share symbol the buy column counts shares (`unit` is one share's value
    in portfolio fractions) and an integer column `sold` counts the shares sold.
    """

    name: str
    group: str
    value: float
    unit: float = 1.0
    whole: bool = False
    buy: int | None = None
    forced_buy: bool = False
    sold: int | None = None
    segments: list[int] = field(default_factory=list)
    loss_segments: list[int] = field(default_factory=list)
    capped_by: str | None = None


@dataclass(frozen=True)
class _Group:
    """A target's band in portfolio fractions, after the plan's costs, aimed inside."""

    low: float
    high: float
    value: float
    # At most one member held and no harvesting: the band forces its trades, with no
    # choice among members; only `buyer` (the first member that may be bought) buys.
    alone: bool
    buyer: str | None


def plan_tax_aware(inp: PlanningInput) -> Plan:
    """Build the least-tax plan that puts every asset in its band.

    With a commission per order, the plan is made again once with the commissions of the
    orders the first plan placed counted in the cash and the bands.

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.

    Returns:
        The plan, with notes naming the tax rule wherever a band could not be reached.

    Raises:
        EmptyAccount: When the account holds no value.
        InvalidInput: When the withdrawal is more than the account is worth.
    """
    inp.check_plannable()
    plan = _plan_once(inp, 0, _costs_estimate(inp))
    commission = inp.settings.costs.commission_usd > 0
    if plan.trades and plan.solver and (commission or plan.drift_after.needs_rebalance):
        # The first plan's own costs (and commissions) are known now: plan again with
        # them, and keep the second plan unless it leaves more groups out of band.
        again = _plan_once(inp, len(plan.trades), plan.total("estimated_cost_usd"))
        if _outside(again) <= _outside(plan):
            plan = again
    return plan


def _outside(plan: Plan) -> int:
    return sum(1 for row in plan.drift_after.assets if row.breach)


def _costs_estimate(inp: PlanningInput) -> Decimal:
    """The spread a plan will pay, estimated before it is made.

    Every dollar a group sits outside its band is traded twice (sold here, bought
    there), and a cash shortfall is sold once; the least-tax plan trades little more.
    """
    outside = ZERO
    for target in inp.targets:
        value = inp.group_value_usd(target.symbol)
        low, high = inp.band_usd(target)
        outside += max(ZERO, low - value, value - high)
    for holding in inp.portfolio.holdings:
        if inp.target_of(holding.symbol) is None:
            outside += holding.market_value_usd
    short = max(ZERO, inp.reserve_usd - inp.cash_usd)
    return (2 * outside + short) * inp.settings.costs.spread_bps / 10_000


def _plan_once(inp: PlanningInput, orders: int, costs_usd: Decimal) -> Plan:
    """One solve, with `orders` commissions and `costs_usd` of costs expected.

    The costs shrink the portfolio after the plan, and the band's edges with it.
    """
    # Columns are in fractions of the portfolio's value before a withdrawal (never 0: a
    # full withdrawal leaves no value after); the objective is in dollars.
    scale = float(inp.value_usd)
    model = _Model()
    names = [s for s in inp.symbols() if s in inp.prices_usd]
    groups = _groups(inp, names, scale, orders, costs_usd)
    symbols = [_columns(inp, model, s, groups, scale) for s in names]
    _bands(model, symbols, groups)
    cash_row = _cash(inp, model, symbols, scale, orders)
    if not model.row_holds(cash_row):
        # The cash cannot pay every band's buy: let the program choose which to cut.
        for sym in symbols:
            if sym.forced_buy and sym.buy is not None:
                model.lower[sym.buy] = 0.0
    if model.lowest_is_optimal():
        solution, status = model.lower, "closed form: the forced trades are optimal"
    else:
        solution, status = _solve(model, scale)
        if not status.startswith("highs milp optimal") and not status.startswith("highs lp opt"):
            raise SolverStopped(status)
    notes: list[PlanNote] = []
    desired: dict[str, Decimal] = {}
    for sym in symbols:
        if sym.whole:
            shares_sold = round(solution[sym.sold]) if sym.sold is not None else 0
            shares_bought = round(solution[sym.buy]) if sym.buy is not None else 0
            if shares_sold or shares_bought:
                held = inp.held_qty(sym.name)
                after = max(ZERO, held - shares_sold + shares_bought)
                desired[sym.name] = after * inp.prices_usd[sym.name]
            continue
        sold = sum(solution[i] for i in sym.segments)
        bought = solution[sym.buy] if sym.buy is not None else 0.0
        if sold * scale >= 0.01 or bought * scale >= 0.01:
            value = Decimal(repr(max(0.0, sym.value - sold + bought) * scale))
            # Round down: a sale a cent larger, a buy a cent smaller, never below the buffer.
            desired[sym.name] = value.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    reasons = {s: "Tax-aware rebalance" for s in desired}
    return finalize(inp, desired, Strategy.TAX_AWARE, reasons, notes, solver=status)


class SolverStopped(Exception):
    """HiGHS stopped before an optimum (time limit); the caller plans `band` instead."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _groups(
    inp: PlanningInput, names: list[str], scale: float, orders: int, costs_usd: Decimal
) -> dict[str, _Group]:
    """The bands of the groups, as fractions of the portfolio, after the plan's costs."""
    groups: dict[str, _Group] = {}
    post = inp.post_value_usd
    commissions = max(inp.settings.costs.commission_usd * orders, costs_usd)
    margin_share = float(inp.settings.band_margin_percent) / 100
    for name in names:
        target = inp.target_of(name)
        key = target.symbol if target else name
        if key in groups:
            continue
        members = [m for m in (target.members if target else (name,)) if m in names]
        # The band as shares of the portfolio after the plan (`inp.band_usd` over `post`).
        threshold = inp.settings.threshold_percent
        if target is not None and target.threshold_percent is not None:
            threshold = target.threshold_percent
        percent = target.target_percent if target else ZERO
        low_percent, high_percent = band_percent(percent, threshold, inp.settings.drift_method)
        low_share = float(low_percent) / 100 if post > 0 else 0.0
        high_share = float(high_percent) / 100 if post > 0 else 0.0
        # Costs and commissions shrink the portfolio after the plan: the edges move too.
        low = low_share * float(post - commissions) / scale
        high = high_share * float(post - commissions) / scale
        margin = (high - low) * margin_share + EDGE_SAFETY_USD / scale
        margin = min(margin, (high - low) / 2)
        value = sum(float(inp.held_value_usd(m)) for m in members) / scale
        held = [m for m in members if inp.held_qty(m) > 0]
        alone = len(held) <= 1 and not inp.settings.tax.harvest_losses
        buyer = next((m for m in members if target and inp.can_buy(m)), None)
        groups[key] = _Group(low + margin, high - margin, value, alone, buyer)
    return groups


def _columns(
    inp: PlanningInput, model: _Model, symbol: str, groups: dict[str, _Group], scale: float
) -> _Symbol:
    """Add the buy and sell columns of one symbol, with the relief-order binaries.

    A symbol alone in its group never needs to sell below its band's low edge nor buy
    above its high edge, and must trade at least to the band: those bounds keep the
    model small (few lots are ever in reach) and often make the answer plain. For whole
    shares the bounds round outward to whole shares (one share may overshoot a band
    narrower than a share) and the counts are integer columns.
    """
    target = inp.target_of(symbol)
    price = inp.prices_usd[symbol]
    asset = inp.assets.get(symbol)
    spread = float(inp.settings.costs.spread_bps) / 10_000
    key = target.symbol if target else symbol
    group = groups[key]
    value = float(inp.held_value_usd(symbol)) / scale
    tradable = asset is not None and asset.tradable
    whole = asset is not None and not asset.fractionable
    share = float(price) / scale
    sym = _Symbol(symbol, key, value, unit=share if whole else 1.0, whole=whole)
    cost = (spread + TIE_BREAK) * sym.unit
    if group.alone and symbol == group.buyer:
        need, room = max(0.0, group.low - group.value), max(0.0, group.high - group.value)
        if whole:
            most = math.ceil(room / share - FEASIBLE)
            least = math.ceil(need / share - FEASIBLE)
            if least * share > room + FEASIBLE:
                least = math.floor(need / share + FEASIBLE)
            sym.buy = model.var(cost, most, lower=min(least, most), integer=True)
        else:
            sym.buy = model.var(cost, room, lower=need)
        sym.forced_buy = need > 0
    elif not group.alone and target is not None and inp.can_buy(symbol):
        sym.buy = model.var(cost, math.floor(BIG / share) if whole else BIG, integer=whole)
    if not tradable or inp.held_qty(symbol) <= 0:
        return sym
    cap = sell_cap(inp, symbol)
    sym.capped_by = cap.rule if cap.qty < inp.held_qty(symbol) else None
    reach = max(0.0, value - group.low) if group.alone else value
    forced = max(0.0, value - group.high) if group.alone else 0.0
    cap_qty = cap.qty
    if whole:
        cap_qty = cap.qty.to_integral_value(ROUND_FLOOR)
        reach = min(value, math.ceil(reach / share - FEASIBLE) * share)
        fewest = math.ceil(forced / share - FEASIBLE)
        if fewest * share > reach + FEASIBLE:
            fewest = math.floor(forced / share + FEASIBLE)
        forced = fewest * share
    segments = _segments(inp, symbol, price, cap_qty, scale)
    _ordered_segments(model, sym, segments, spread, reach, forced)
    if whole and sym.segments:
        # The shares sold are a whole number: the segments add up to that many shares.
        top = sum(model.upper[i] for i in sym.segments)
        bottom = sum(model.lower[i] for i in sym.segments)
        most = math.floor(top / share + FEASIBLE)
        least = min(most, math.ceil(bottom / share - FEASIBLE))
        sym.sold = model.var(0.0, most, lower=least, integer=True)
        model.row({**{i: 1.0 for i in sym.segments}, sym.sold: -share}, 0.0, 0.0)
    if sym.buy is not None and sym.loss_segments:
        # One plan never buys a symbol and sells it at a loss (a wash sale).
        switch = model.var(0.0, 1.0, integer=True)
        cap_loss = sum(model.upper[i] for i in sym.loss_segments)
        model.row({**{i: 1.0 for i in sym.loss_segments}, switch: -cap_loss}, -1e30, 0.0)
        most_buy = model.upper[sym.buy]
        model.row({sym.buy: 1.0, switch: most_buy}, -1e30, most_buy)
    return sym


def _segments(
    inp: PlanningInput, symbol: str, price: Decimal, cap_qty: Decimal, scale: float
) -> list[tuple[float, float, bool]]:
    """The lots a sale reaches, in relief order: (dollars, tax per dollar, is a loss)."""
    tax = inp.settings.tax
    segments: list[tuple[float, float, bool]] = []
    reached = ZERO
    for lot in inp.lots.of(symbol):
        if reached >= cap_qty:
            break
        shares = min(lot.qty, cap_qty - reached)
        reached += shares
        gain_share = float((price - lot.cost_per_share_usd) / price)
        rate = float(tax.long_term_rate if lot.is_long_term(inp.as_of) else tax.short_term_rate)
        per_dollar = rate * gain_share
        if gain_share < 0 and not (
            tax.harvest_losses and -gain_share * 100 >= float(tax.harvest_threshold_percent)
        ):
            per_dollar = 0.0  # a loss not worth harvesting: no reason to sell it, none against
        segments.append((float(shares * price) / scale, per_dollar, gain_share < 0))
    if reached < cap_qty:  # shares the lots do not explain: no known gain
        segments.append((float((cap_qty - reached) * price) / scale, 0.0, False))
    return _merge_dust(segments)


def _merge_dust(segments: list[tuple[float, float, bool]]) -> list[tuple[float, float, bool]]:
    """Fold lots too small to matter into the next one (their tax per dollar averaged in).

    A column of a millionth of the portfolio sits at the solver's tolerances, where the
    relief-order rows can no longer tell full from empty.
    """
    merged: list[tuple[float, float, bool]] = []
    carry = (0.0, 0.0, False)
    for dollars, per_dollar, loss in segments:
        size = carry[0] + dollars
        blended = (carry[0] * carry[1] + dollars * per_dollar) / size if size else per_dollar
        carry = (size, blended, carry[2] or loss)
        if size >= NEGLIGIBLE:
            merged.append(carry)
            carry = (0.0, 0.0, False)
    if carry[0] > 0:
        if merged:
            size, per_dollar, loss = merged[-1]
            total = size + carry[0]
            blended = (size * per_dollar + carry[0] * carry[1]) / total
            merged[-1] = (total, blended, loss or carry[2])
        else:
            merged.append(carry)
    return merged


def _ordered_segments(
    model: _Model,
    sym: _Symbol,
    segments: list[tuple[float, float, bool]],
    spread: float,
    reach: float,
    forced: float,
) -> None:
    """Sell columns in relief order, up to `reach`, the first `forced` dollars fixed.

    A binary opens each run of rising tax per dollar after a fall; runs inside the
    forced part are always full and need none.
    """
    runs: list[list[int]] = []
    last = None
    start = 0.0
    for dollars, per_dollar, loss in segments:
        if start >= reach:
            break
        size = min(dollars, reach - start)
        fixed = min(size, max(0.0, forced - start))
        start += size
        column = model.var(per_dollar + spread + TIE_BREAK, size, lower=fixed)
        sym.segments.append(column)
        if loss:
            sym.loss_segments.append(column)
        if last is None or per_dollar < last:
            runs.append([])
        runs[-1].append(column)
        last = per_dollar
    opened = None
    for before, run in itertools.pairwise(runs):
        full = sum(model.upper[i] for i in before)
        if all(model.lower[i] >= model.upper[i] for i in before):
            continue  # the run before is forced full: this one is free to start
        # The run may hold anything only when the run before it is full.
        gate = model.var(0.0, 1.0, integer=True)
        model.row({**{i: 1.0 for i in before}, gate: -full}, 0.0, 1e30)
        model.row({**{i: 1.0 for i in run}, gate: -sum(model.upper[i] for i in run)}, -1e30, 0.0)
        if opened is not None:
            model.row({gate: 1.0, opened: -1.0}, -1e30, 0.0)
        opened = gate


def _bands(
    model: _Model, symbols: list[_Symbol], groups: dict[str, _Group]
) -> dict[str, tuple[int, int]]:
    """Soft band rows per group: value after the plan between the band's (inner) edges."""
    slack: dict[str, tuple[int, int]] = {}
    for key, group in groups.items():
        terms: dict[int, float] = {}
        for s in symbols:
            if s.group != key:
                continue
            terms |= {i: -1.0 for i in s.segments}
            if s.buy is not None:
                terms[s.buy] = s.unit
        under = model.var(BAND_PENALTY, BIG)
        over = model.var(BAND_PENALTY, BIG)
        model.row({**terms, under: 1.0}, group.low - group.value, 1e30)
        model.row({**terms, over: -1.0}, -1e30, group.high - group.value)
        slack[key] = (under, over)
    return slack


def _cash(
    inp: PlanningInput, model: _Model, symbols: list[_Symbol], scale: float, orders: int
) -> int:
    """Cash after the plan, net of costs, at least the reserve (buffer plus withdrawal).

    Returns:
        The index of the cash row.
    """
    costs = inp.settings.costs
    spread = float(costs.spread_bps) / 10_000
    terms: dict[int, float] = {}
    for s in symbols:
        terms |= {i: 1.0 - spread for i in s.segments}
        if s.buy is not None:
            terms[s.buy] = -(1.0 + spread) * s.unit
    short = model.var(CASH_PENALTY, BIG)
    terms[short] = 1.0
    need = float(inp.reserve_usd - inp.cash_usd + costs.commission_usd * orders) / scale
    model.row(terms, need, 1e30)
    return len(model.rows) - 1


def _tolerance(scale: float) -> float:
    """HiGHS's feasibility tolerance: a tenth of a cent of the portfolio, within its range."""
    return max(MIN_TOLERANCE, min(1e-7, TOLERANCE_USD / scale))


def _solve(model: _Model, scale: float) -> tuple[list[float], str]:
    """Solve with HiGHS; returns the column values and a status line.

    The objective goes to HiGHS in dollars, and the search stops only when the plan is
    proved within `GAP_USD` of the optimum (no relative gap: a relative gap lets a large
    portfolio's plan be dollars off).
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    rows, cols, vals, lows, highs = [], [], [], [], []
    for r, (terms, low, high) in enumerate(model.rows):
        for c, v in terms.items():
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lows.append(low)
        highs.append(high)
    shape = (len(model.rows), len(model.cost))
    matrix = coo_array((vals, (rows, cols)), shape=shape).tocsr()
    with warnings.catch_warnings():
        # `mip_abs_gap` is a HiGHS option scipy passes on verbatim, with a warning.
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        result: Any = milp(
            c=np.array(model.cost) * scale,
            integrality=np.array(model.integer),
            bounds=Bounds(np.array(model.lower), np.array(model.upper)),
            constraints=LinearConstraint(matrix, np.array(lows), np.array(highs)),
            options={
                "time_limit": TIME_LIMIT_S,
                "mip_rel_gap": 0.0,
                "mip_abs_gap": GAP_USD,
                # Rows are in fractions of the portfolio: a row may be off by the
                # tolerance times its value, so the tolerance shrinks as it grows.
                "primal_feasibility_tolerance": _tolerance(scale),
                "mip_feasibility_tolerance": _tolerance(scale),
            },
        )
    if result.x is None:
        raise RuntimeError(f"tax-aware solver found no plan: {result.message}")
    binaries = sum(model.integer)
    status = "optimal" if result.status == 0 else f"stopped ({result.message})"
    label = f"highs {'milp' if binaries else 'lp'} {status}: {len(model.cost)} columns"
    return [float(x) for x in result.x], f"{label}, {binaries} binaries"
