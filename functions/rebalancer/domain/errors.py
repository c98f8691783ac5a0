"""The error tree of the rebalancer; entry points map each branch to one callable code.

```
RebalancerError
├── InvalidInput            invalid-argument     (names the field)
├── PreconditionFailed      failed-precondition
│   ├── NoTargets
│   ├── TargetsNotSummingTo100
│   ├── NoBrokerLinked
│   ├── InvalidAllocation   (a stored allocation document breaks a rule; names it)
│   ├── TradingDisabled     (kill-switch off, drawdown mode, or unreadable)
│   ├── EmptyAccount        (no value to rebalance: no cash, no holdings)
│   └── InsufficientFunds   (buying power or shares available, checked before sending)
├── NotFound                not-found
├── PermissionDenied        permission-denied
├── ConcurrentExecution     aborted
├── TooManyAttempts         resource-exhausted   (a per-user abuse limit)
└── BrokerError
    ├── BrokerRejected      failed-precondition  (a 4xx answer to a valid request)
    │   ├── BuyingPowerShort  (the broker: insufficient buying power or shares)
    │   └── DuplicateOrderId  (the broker already has an order with that client id)
    ├── BrokerAuthFailed    failed-precondition  (linked credentials no longer valid)
    ├── BrokerRateLimited   resource-exhausted
    └── BrokerUnavailable   unavailable          (5xx, timeouts, connection errors)
```
"""

from __future__ import annotations


class RebalancerError(Exception):
    """Base of every error the rebalancer raises on purpose."""

    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(RebalancerError):
    """A request field is missing, malformed or out of range."""

    code = "invalid-argument"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class PreconditionFailed(RebalancerError):
    """The request is valid but the system is not in a state that allows it."""

    code = "failed-precondition"


class NoTargets(PreconditionFailed):
    """The user has no enabled target allocation."""


class TargetsNotSummingTo100(PreconditionFailed):
    """The enabled targets do not sum to 100 percent."""


class NoBrokerLinked(PreconditionFailed):
    """The user has not linked a broker account."""


class InvalidAllocation(PreconditionFailed):
    """A stored allocation document breaks a rule; the message names the document and field."""

    def __init__(self, document: str, field: str | None, message: str) -> None:
        super().__init__(f"{document}: {field}: {message}" if field else f"{document}: {message}")
        self.document = document
        self.field = field


class TradingDisabled(PreconditionFailed):
    """The kill-switch refuses orders (disabled, drawdown mode, or unreadable)."""


class EmptyAccount(PreconditionFailed):
    """The account holds nothing (no cash, no positions): there is nothing to rebalance."""

    def __init__(self, message: str = "the account has no value to rebalance") -> None:
        super().__init__(message)


class InsufficientFunds(PreconditionFailed):
    """An order needs more buying power, or more shares, than the account has free."""


class NotFound(RebalancerError):
    """The requested object does not exist for this user."""

    code = "not-found"


class PermissionDenied(RebalancerError):
    """The caller may not touch this object."""

    code = "permission-denied"


class ConcurrentExecution(RebalancerError):
    """Another executor holds the plan or the user's lease."""

    code = "aborted"


class TooManyAttempts(RebalancerError):
    """The caller went over a per-user limit; the message says when to retry."""

    code = "resource-exhausted"


class BrokerError(RebalancerError):
    """The broker refused or failed a request."""

    code = "unavailable"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        broker_code: int | None = None,
        retry_after_s: float | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.broker_code = broker_code
        self.retry_after_s = retry_after_s


class BrokerRejected(BrokerError):
    """The broker answered a 4xx to a well-formed request (e.g. insufficient buying power)."""

    code = "failed-precondition"


class BuyingPowerShort(BrokerRejected):
    """The broker refused an order for want of buying power (or of shares to sell)."""


class DuplicateOrderId(BrokerRejected):
    """The broker already holds an order with this client order id (it was placed)."""


class BrokerAuthFailed(BrokerError):
    """The broker refused the linked credentials."""

    code = "failed-precondition"


class BrokerRateLimited(BrokerError):
    """The broker's rate limit was hit and retries ran out."""

    code = "resource-exhausted"


class BrokerUnavailable(BrokerError):
    """The broker is down, slow past the timeout, or answered a 5xx."""

    code = "unavailable"
