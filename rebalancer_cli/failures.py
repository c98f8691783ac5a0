"""Exit codes, and the one place where errors become them (never a traceback)."""

from __future__ import annotations

from enum import IntEnum

from rebalancer.domain.errors import (
    BrokerUnavailable,
    InvalidInput,
    NoBrokerLinked,
    NoTargets,
    NotFound,
    RebalancerError,
    TargetsNotSummingTo100,
)


class Exit(IntEnum):
    """What the process's exit status means."""

    OK = 0
    REFUSED = 1  # the action was refused or failed (kill-switch, plan failed, broker said no)
    USAGE = 2  # bad arguments or input
    NOT_FOUND = 3  # no such plan, no broker linked, no (valid) targets
    UNREACHABLE = 4  # the emulators, the project, or the broker cannot be reached


class CliError(Exception):
    """An expected failure: printed as one line on stderr, with its exit code."""

    def __init__(self, code: Exit, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.answered = answered  # the command's answer is already on stdout


def exit_code(error: RebalancerError) -> Exit:
    """The exit code of a domain error."""
    if isinstance(error, InvalidInput):
        return Exit.USAGE
    if isinstance(error, NotFound | NoBrokerLinked | NoTargets | TargetsNotSummingTo100):
        return Exit.NOT_FOUND
    if isinstance(error, BrokerUnavailable):
        return Exit.UNREACHABLE
    return Exit.REFUSED


def infrastructure_error(error: Exception) -> CliError | None:
    """A Google client error that means the project or emulator is unreachable, or None.

    Messages of client libraries can carry request details, so only the type is named.
    """
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(error, auth.DefaultCredentialsError):
        return CliError(
            Exit.UNREACHABLE,
            "no Application Default Credentials: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS (or use --emulators)",
        )
    if isinstance(error, auth.GoogleAuthError):
        return CliError(Exit.UNREACHABLE, f"Google authentication failed ({type(error).__name__})")
    if isinstance(error, api.PermissionDenied | api.Unauthenticated):
        return CliError(
            Exit.UNREACHABLE,
            f"the project refused these credentials ({type(error).__name__}); "
            "an operator needs Firestore admin access",
        )
    if isinstance(
        error,
        api.ServiceUnavailable | api.DeadlineExceeded | api.RetryError | api.GatewayTimeout,
    ):
        return CliError(
            Exit.UNREACHABLE, f"Firestore is unreachable ({type(error).__name__}); is it running?"
        )
    return None
