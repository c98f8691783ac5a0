"""Which policy to recommend: the best after-tax ending value, net of tracking error.

The score of a policy is its after-tax ending value less a penalty for tracking error:
`tracking_penalty_bps / 10,000 x TE (in percent) x ending value`. With the default
10 bp, a policy that drifts with 2 % annualized tracking error must end 0.2 % richer
after tax than one that tracks perfectly to be preferred.

Why after-tax value first: it is what the user keeps, and it already counts everything a
policy costs (spread, commissions, tax paid along the way and tax owed on a sale at the
end). Why a penalty at all: a policy that never rebalances usually ends richest (it
defers every tax and lets the winners run), but it no longer holds the mix the user
chose, and its risk grows with the drift; the value alone cannot see that risk.
Why linear in the tracking error, and in basis points of the ending value: it reads as
"one point of tracking error is worth N bp of my wealth to me", one number a user can
change (`tracking_penalty_bps`), and 0 turns the penalty off. Ties go to the policy with
fewer orders, then to the earlier one.

Only policies that keep the portfolio within the user's critical drift (beyond it on at
most 5 % of the days) are recommended: a policy that leaves a 60/40 mix at 75/25 for
years is not a way to hold 60/40, however much tax it defers, and a small penalty would
not see it (tracking error averages the drift away). When no policy stays within it, the
best score is recommended and the reason says so.
"""

from __future__ import annotations

from decimal import Decimal

from rebalancer.domain.costs import BPS
from rebalancer.domain.simulation.model import PolicyResult, Recommendation

CENT = Decimal("0.01")
MAX_SHARE_BEYOND = Decimal("0.05")


def score_usd(
    after_tax_ending_value_usd: Decimal,
    ending_value_usd: Decimal,
    tracking_error_percent: Decimal,
    penalty_bps: Decimal,
) -> Decimal:
    """The after-tax ending value less the tracking-error penalty.

    Args:
        after_tax_ending_value_usd: What the policy leaves after tax (a sale at the end).
        ending_value_usd: Its ending value before tax.
        tracking_error_percent: Its annualized tracking error, in percent.
        penalty_bps: What one point of tracking error costs, in bp of the ending value.

    Returns:
        The score, rounded to the cent.
    """
    penalty = penalty_bps / BPS * tracking_error_percent * ending_value_usd
    return (after_tax_ending_value_usd - penalty).quantize(CENT)


def recommend(
    results: tuple[PolicyResult, ...],
    penalty_bps: Decimal,
    days: int = 0,
    critical_drift_percent: Decimal = Decimal(10),
) -> Recommendation:
    """The best policy by score among those that stay within the critical drift, and why.

    Args:
        results: Every policy's result, with its score.
        penalty_bps: The penalty the scores used (for the reason's text).
        days: The days replayed (0: every policy counts as within the critical drift).
        critical_drift_percent: The drift the user calls critical (for the reason's text).

    Returns:
        The recommendation (best, runner-up, the gap in score, the reason); with no
        results, an empty one.
    """
    if not results:
        return Recommendation("", None, Decimal(0), "no policy was simulated")
    ranked = sorted(
        enumerate(results), key=lambda item: (-item[1].score_usd, item[1].orders, item[0])
    )
    within = [
        item
        for item in ranked
        if days == 0 or item[1].days_beyond_critical <= MAX_SHARE_BEYOND * days
    ]
    chosen = within or ranked
    best = chosen[0][1]
    runner = chosen[1][1] if len(chosen) > 1 else None
    reason = (
        f"{best.policy.name} ends with ${best.after_tax_ending_value_usd:,.2f} after tax "
        f"({best.rebalances} rebalances, ${best.tax_paid_usd:,.2f} tax paid, "
        f"{best.tracking_error_percent:.2f} % tracking error)"
    )
    if not within:
        reason += (
            f"; no policy kept every asset within {critical_drift_percent} points of its "
            "target on 95 % of the days, so the best score is shown"
        )
    top = ranked[0][1]
    if top is not best:
        share = Decimal(top.days_beyond_critical) / days * 100 if days else Decimal(0)
        reason += (
            f"; {top.policy.name} scores higher (${top.score_usd:,.2f}) but leaves an asset "
            f"more than {critical_drift_percent} points off target on {share:.0f} % of the "
            "days, so it is not recommended"
        )
    if runner is None:
        return Recommendation(best.policy.name, None, Decimal(0), reason + ".")
    gap = best.score_usd - runner.score_usd
    reason += (
        f"; {runner.policy.name} is ${gap:,.2f} behind on score (after-tax value less "
        f"{penalty_bps} bp of the ending value per point of tracking error)"
    )
    richest = max(results, key=lambda r: r.after_tax_ending_value_usd)
    if top is best and richest is not best:
        reason += (
            f"; {richest.policy.name} keeps more after tax "
            f"(${richest.after_tax_ending_value_usd:,.2f}) but drifts further from the "
            f"targets ({richest.tracking_error_percent:.2f} % tracking error)"
        )
    return Recommendation(best.policy.name, runner.policy.name, gap, reason + ".")
