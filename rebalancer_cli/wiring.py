"""The CLI's own wiring of the production adapters (see `rebalancer.wiring.ports`).

Two targets:
- the local stack (`--emulators`, or FIRESTORE_EMULATOR_HOST set): the Firestore and
  Cloud Tasks emulators, the paper broker named by `functions/.env.local`
  (ALPACA_URL_OVERRIDE), the emulator's key from `functions/.secret.local`, and the paper
  broker's clock, exactly what the functions emulator gives the functions;
- a real project (`--project`, GOOGLE_CLOUD_PROJECT, or the ADC's project) with
  Application Default Credentials, the vault key from BROKER_CREDENTIALS_KEY or
  `--credentials-key-file`, real time, and Cloud Tasks.

The vault key is read only by commands that open a broker, and is never printed.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rebalancer_cli.failures import CliError, Exit

if TYPE_CHECKING:
    from google.cloud.firestore import Client

    from rebalancer.service.context import Ports
    from rebalancer.service.ports import Clock, TaskQueue

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
EMULATOR_PROJECT = "demo-rebalancer"
# firebase.json's emulator ports, used when no hub or variable says otherwise.
DEFAULT_HOSTS = {"firestore": "127.0.0.1:8080", "tasks": "127.0.0.1:9499"}
BROKER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Target:
    """Where the CLI acts: a project, on the emulators or for real."""

    project: str
    emulators: bool
    credentials_key_file: Path | None = None

    @property
    def description(self) -> str:
        """For messages: the project and where it runs."""
        host = os.environ.get("FIRESTORE_EMULATOR_HOST")
        where = f"emulators at {host}" if self.emulators else "live"
        return f"project {self.project} ({where})"


def choose_target(
    project: str | None, emulators: bool, credentials_key_file: Path | None
) -> Target:
    """The project and mode from the flags and the environment.

    Emulator mode when `--emulators` is given or FIRESTORE_EMULATOR_HOST is set; the
    emulator hosts are then put into the environment (the Google clients read them).
    """
    emulators = emulators or bool(os.environ.get("FIRESTORE_EMULATOR_HOST"))
    if emulators:
        hosts = _emulator_hosts()
        os.environ.setdefault("FIRESTORE_EMULATOR_HOST", hosts["firestore"])
        if "tasks" in hosts:
            os.environ.setdefault("CLOUD_TASKS_EMULATOR_HOST", hosts["tasks"])
        _require_listening("the Firestore emulator", os.environ["FIRESTORE_EMULATOR_HOST"])
        return Target(project or EMULATOR_PROJECT, True, credentials_key_file)
    chosen = project or os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT")
    if not chosen:
        chosen = _adc_project()
    return Target(chosen, False, credentials_key_file)


def _emulator_hosts() -> dict[str, str]:
    """host:port of the Firestore and Cloud Tasks emulators: the hub's, else firebase.json's."""
    hosts = dict(DEFAULT_HOSTS)
    hub = os.environ.get("FIREBASE_EMULATOR_HUB")
    if hub:
        import requests

        try:
            listed = requests.get(f"http://{hub}/emulators", timeout=3).json()
            for name in ("firestore", "tasks"):
                if name in listed:
                    hosts[name] = f"{listed[name]['host']}:{listed[name]['port']}"
                else:
                    hosts.pop(name, None)
        except (requests.RequestException, ValueError, KeyError, TypeError):
            pass  # the variables or the defaults below still say where to look
    if os.environ.get("CLOUD_TASKS_EMULATOR_HOST"):
        hosts["tasks"] = os.environ["CLOUD_TASKS_EMULATOR_HOST"]
    elif "tasks" in hosts and not _listening(hosts["tasks"]):
        hosts.pop("tasks")
    return hosts


def _listening(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def _require_listening(what: str, host_port: str) -> None:
    if not _listening(host_port):
        raise CliError(
            Exit.UNREACHABLE,
            f"{what} at {host_port} is unreachable: start the local stack "
            "(scripts/dev, or run under scripts/with-emulators)",
        )


def _adc_project() -> str:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        _, found = google.auth.default()
    except DefaultCredentialsError:
        found = None
    if not found:
        raise CliError(
            Exit.USAGE,
            "no project: pass --project, set GOOGLE_CLOUD_PROJECT, or use --emulators "
            "for the local stack",
        )
    return str(found)


def dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines of a dotenv file (comments and blanks skipped); {} when missing."""
    values: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def broker_url(target: Target) -> str | None:
    """ALPACA_URL_OVERRIDE: the environment's, else (emulators) functions/.env.local's."""
    if os.environ.get("ALPACA_URL_OVERRIDE"):
        return os.environ["ALPACA_URL_OVERRIDE"]
    if target.emulators:
        return dotenv(FUNCTIONS / ".env.local").get("ALPACA_URL_OVERRIDE") or None
    return None


def credentials_key(target: Target) -> str:
    """The Fernet key of the vault; never printed, never part of a message."""
    if target.credentials_key_file is not None:
        try:
            key = target.credentials_key_file.read_text().strip()
        except OSError as error:
            raise CliError(
                Exit.USAGE,
                f"--credentials-key-file {target.credentials_key_file}: {error.strerror}",
            ) from None
        # Accept a bare key or a dotenv line (functions/.secret.local's format).
        return dotenv_value(key, "BROKER_CREDENTIALS_KEY") or key
    if os.environ.get("BROKER_CREDENTIALS_KEY"):
        return os.environ["BROKER_CREDENTIALS_KEY"]
    if target.emulators:
        local = dotenv(FUNCTIONS / ".secret.local").get("BROKER_CREDENTIALS_KEY")
        if local:
            return local
        raise CliError(
            Exit.USAGE,
            "no BROKER_CREDENTIALS_KEY in functions/.secret.local: run scripts/bootstrap",
        )
    raise CliError(
        Exit.USAGE,
        "the vault key is needed to open users' brokers: set BROKER_CREDENTIALS_KEY or pass "
        "--credentials-key-file (e.g. from `gcloud secrets versions access latest "
        "--secret BROKER_CREDENTIALS_KEY`)",
    )


def dotenv_value(text: str, name: str) -> str | None:
    """`name`'s value when `text` holds dotenv lines, else None."""
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip("'\"")
    return None


def firestore(target: Target) -> Client:
    """A Firestore client on the project (anonymous credentials on the emulator)."""
    from google.cloud.firestore import Client

    return Client(project=target.project)


@dataclass
class SkippedTasks:
    """A TaskQueue for when there is no Cloud Tasks emulator: nothing is enqueued.

    Each task the engine wanted is remembered and reported on stderr, with what to do
    (a queued plan runs when `execute` is run again after the open; an interrupted one
    resumes the same way).
    """

    skipped: list[str] = field(default_factory=list)

    def enqueue(
        self, function: str, data: Mapping[str, Any], task_id: str, run_at: datetime
    ) -> bool:
        """Remember the task, say so, and report it as new."""
        self.skipped.append(task_id)
        print(
            f"rebalancer: note: no Cloud Tasks emulator: task {function}/{task_id} "
            f"(for {run_at:%Y-%m-%d %H:%M} UTC) not enqueued; run `rebalancer execute` "
            "again to resume the plan",
            file=sys.stderr,
        )
        return True


def task_queue(target: Target) -> TaskQueue:
    """Cloud Tasks (its emulator locally) through the same adapter the functions use."""
    if target.emulators and not os.environ.get("CLOUD_TASKS_EMULATOR_HOST"):
        return SkippedTasks()
    import firebase_admin

    from rebalancer.adapters.task_queue import CloudTaskQueue

    try:
        firebase_admin.get_app()
    except ValueError:
        options: dict[str, Any] = {"projectId": target.project}
        account = os.environ.get("REBALANCER_TASKS_SERVICE_ACCOUNT")
        if account:  # the OIDC identity of tasks when ADC is a user account
            options["serviceAccountId"] = account
        firebase_admin.initialize_app(options=options)
    return CloudTaskQueue()


def clock(target: Target, url: str | None) -> Clock:
    """The paper broker's clock on the local stack (as the functions emulator), else real time."""
    from rebalancer.adapters.clock import PaperBrokerClock, SystemClock

    if target.emulators and url:
        return PaperBrokerClock(url)
    return SystemClock()


def ports(target: Target) -> Ports:
    """The ports a service runs on, built from the same adapters as `rebalancer.wiring`."""
    from rebalancer.adapters.alpaca_broker import AlpacaConnector
    from rebalancer.adapters.firestore_store import FirestoreStore
    from rebalancer.adapters.vault import FernetVault
    from rebalancer.service.context import Ports

    url = broker_url(target)
    try:
        vault = FernetVault(credentials_key(target))
    except ValueError as error:  # the adapter's message names the variable, never the key
        raise CliError(Exit.USAGE, str(error)) from None
    return Ports.over(
        store=FirestoreStore(firestore(target)),
        connector=AlpacaConnector(url, BROKER_TIMEOUT_S),
        vault=vault,
        clock=clock(target, url),
        tasks=task_queue(target),
    )
