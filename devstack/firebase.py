"""Clients for the Firebase Emulator Suite: users and ID tokens, callables, Firestore REST.

Everything goes over HTTP exactly as a web or mobile client sends it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from devstack.http import request

PROJECT = "demo-rebalancer"
REGION = "us-central1"


class StackMissing(RuntimeError):
    """The emulators are not running (the command was not run under the emulators)."""


def hub_url() -> str:
    """The emulator hub's URL; only set under `firebase emulators:exec`."""
    hub = os.environ.get("FIREBASE_EMULATOR_HUB")
    if not hub:
        raise StackMissing(
            "FIREBASE_EMULATOR_HUB is not set: run this under the emulators "
            "(scripts/test, scripts/with-emulators, scripts/dev)"
        )
    return f"http://{hub}"


def emulator_hosts() -> dict[str, str]:
    """host:port of every running emulator, by name, from the hub."""
    status, body = request("GET", hub_url() + "/emulators")
    if status != 200:
        raise StackMissing(f"emulator hub answered {status}")
    return {name: f"{info['host']}:{info['port']}" for name, info in body.items()}


@dataclass(frozen=True)
class User:
    """A signed-in Auth-emulator user."""

    uid: str
    email: str
    id_token: str


@dataclass(frozen=True)
class Stack:
    """Addresses of the running emulators."""

    auth: str
    functions: str
    firestore: str

    @classmethod
    def discover(cls) -> Stack:
        """Ask the hub where everything runs."""
        hosts = emulator_hosts()
        missing = {"auth", "functions", "firestore"} - hosts.keys()
        if missing:
            raise StackMissing(f"emulators not running: {', '.join(sorted(missing))}")
        return cls(hosts["auth"], hosts["functions"], hosts["firestore"])

    def sign_up(self, email: str | None = None) -> User:
        """Create a user in the Auth emulator and sign it in, as the client SDK does."""
        email = email or f"user-{secrets.token_hex(6)}@example.com"
        url = (
            f"http://{self.auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key"
        )
        status, body = request(
            "POST", url, {"email": email, "password": "password-123", "returnSecureToken": True}
        )
        if status != 200:
            raise RuntimeError(f"sign-up failed: {status} {body}")
        return User(body["localId"], email, body["idToken"])

    def function_url(self, name: str) -> str:
        """The HTTPS endpoint of a function in the emulator."""
        return f"http://{self.functions}/{PROJECT}/{REGION}/{name}"

    def call(self, name: str, data: Any = None, token: str | None = None) -> tuple[int, Any]:
        """Call a callable exactly as the Firebase client SDK does: POST {"data": ...}."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return request("POST", self.function_url(name), {"data": data}, headers)

    def function_names(self) -> set[str]:
        """The functions the emulator loaded (an import error loads none, silently)."""
        status, body = request("GET", f"http://{self.functions}/backends")
        if status != 200:
            return set()
        return {
            str(trigger.get("entryPoint") or trigger.get("id"))
            for backend in body.get("backends", [])
            for trigger in backend.get("functionTriggers", [])
        }

    def wait_for_functions(self, names: set[str], timeout_s: float = 60.0) -> None:
        """Fail loudly when the functions did not load."""
        deadline = time.monotonic() + timeout_s
        while (loaded := self.function_names()) < names:
            if time.monotonic() > deadline:
                raise StackMissing(
                    f"functions not loaded: {sorted(names - loaded)} (loaded: {sorted(loaded)}); "
                    "see firebase-debug.log: an import error in functions/main.py loads none"
                )
            time.sleep(0.5)

    def fire_schedule(self, function: str, schedule_time: str) -> None:
        """Trigger a scheduled function as Cloud Scheduler would, through the emulator."""
        base = f"http://{self.functions}/functions/projects/{PROJECT}/triggers"
        # The emulator keys event triggers with a generation suffix; an unknown key makes it
        # list the valid ones (without running anything).
        status, body = request("POST", f"{base}/{REGION}-{function}-no-such-key", {})
        if status != 404 or "valid functions are:" not in str(body):
            raise RuntimeError(f"cannot list the emulator's triggers: {status} {body}")
        listed = str(body).split("valid functions are:")[1].split(",")
        key = next(k.strip() for k in listed if f"-{function}" in k)
        headers = {
            "X-CloudScheduler-JobName": function,
            "X-CloudScheduler-ScheduleTime": schedule_time,
        }
        status, body = request("POST", f"{base}/{key}", {}, headers)
        if status != 200:
            raise RuntimeError(f"{function} trigger failed: {status} {body}")

    def firestore_url(self, path: str) -> str:
        """The REST URL of a document or collection in the Firestore emulator."""
        return f"http://{self.firestore}/v1/projects/{PROJECT}/databases/(default)/documents/{path}"


def unsigned_token(uid: str) -> str:
    """An unsigned ID token (alg none) that the emulators accept for `uid`."""

    def encode(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "firebase": {"sign_in_provider": "custom", "identities": {}},
    }
    return encode({"alg": "none", "typ": "JWT"}) + "." + encode(claims) + "."
