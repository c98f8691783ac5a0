"""The HTTP server: parsing, authentication, counters, faults, dispatch and JSON answers."""

from __future__ import annotations

import base64
import binascii
import json
import sys
import threading
import time
import traceback
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from paper_broker import errors, fills
from paper_broker.broker import SimulatedBroker
from paper_broker.errors import ApiError
from paper_broker.faults import Fault
from paper_broker.messages import Request, Response
from paper_broker.routes import ALPACA_ROUTES, Route, resolve
from paper_broker.state import Account


class PaperServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its broker and its requests in flight."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], broker: SimulatedBroker) -> None:
        super().__init__(address, Handler)
        self.broker = broker
        broker.alpaca_routes = ALPACA_ROUTES
        self.stopping = threading.Event()
        self._busy = 0
        self._idle = threading.Condition()

    def request_started(self) -> None:
        """Note a request in flight."""
        with self._idle:
            self._busy += 1

    def request_finished(self) -> None:
        """Note a request answered."""
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is in flight; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


def _has_credentials(headers: Message) -> bool:
    """Whether a request carries any kind of credentials."""
    return any(headers.get(name) for name in ("APCA-API-KEY-ID", "Authorization"))


def authenticate(broker: SimulatedBroker, headers: Message) -> Account:
    """Return the account whose key pair or OAuth token the request carries, or 401."""
    key_id = headers.get("APCA-API-KEY-ID")
    secret = headers.get("APCA-API-SECRET-KEY")
    authorization = headers.get("Authorization", "")
    account = None
    if key_id and secret:
        account = broker.state.account_by_keys(key_id, secret)
    elif authorization.startswith("Bearer "):
        account = broker.state.account_by_token(authorization.removeprefix("Bearer ").strip())
    elif authorization.startswith("Basic "):
        try:
            pair = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        key_id, _, secret = pair.partition(":")
        account = broker.state.account_by_keys(key_id, secret) if secret else None
    if account is None:
        raise errors.unauthorized()
    return account


class Handler(BaseHTTPRequestHandler):
    """Serves one connection (HTTP/1.1 keep-alive) of the paper broker."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; Nagle would hold the body ~40 ms.
    disable_nagle_algorithm = True
    server: PaperServer

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._serve()

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and scripts read stdout for the ready line only."""

    def _serve(self) -> None:
        """Answer one request, counting it as in flight meanwhile."""
        self.server.request_started()
        try:
            try:
                response = self._respond(self._read_body())
            except ApiError as error:
                response = Response(error.status, error.body(), error.headers)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                response = Response(500, errors.server_error().body())
            try:
                self._send(response)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout ran out): normal for slow-fault tests.
                self.close_connection = True
        finally:
            self.server.request_finished()
        if self.server.stopping.is_set():
            self.close_connection = True

    def _read_body(self) -> bytes:
        """Read the request body that Content-Length announces."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise errors.malformed("invalid Content-Length") from None
        return self.rfile.read(length) if length > 0 else b""

    def _prepare(self, route: Route) -> tuple[Account | None, Fault | None]:
        """Settle (saving what that changed), authenticate, count and pick a fault."""
        broker = self.server.broker
        with broker.lock:
            if fills.settle(broker.state, broker.state.clock.now()):
                broker.save()
            if not route.alpaca:
                return None, None
            if route.credentials_optional and not _has_credentials(self.headers):
                return None, broker.faults.take(route.name, None)
            account = authenticate(broker, self.headers)
            account.counters[route.name] = account.counters.get(route.name, 0) + 1
            return account, broker.faults.take(route.name, account.id)

    def _respond(self, raw_body: bytes) -> Response:
        """Route, apply faults and run the handler under the broker's lock."""
        broker = self.server.broker
        url = urlsplit(self.path)
        route, params = resolve(self.command, url.path)
        account, fault = self._prepare(route)
        if fault is not None and fault.kind == "slow":
            # Sleep outside the lock, so a slow request holds up no other.
            time.sleep(fault.delay_ms / 1000)
        error = fault.error() if fault is not None else None
        if error is not None:
            raise error
        with broker.lock:
            try:
                now = broker.state.clock.now()
                changed = fills.settle(broker.state, now)
                request = Request(
                    method=self.command,
                    path=url.path,
                    route=route.name,
                    params=params,
                    query=dict(parse_qsl(url.query, keep_blank_values=True)),
                    raw_body=raw_body,
                    now=now,
                    account=account,
                    fill_ratio=fault.fill_ratio
                    if fault is not None and fault.kind == "partial_fill"
                    else None,
                )
                response = route.handler(broker, request)
            finally:
                if changed or self.command != "GET":
                    broker.save()
        if fault is not None and fault.kind == "error_after_commit":
            raise errors.server_error()
        return response

    def _send(self, response: Response) -> None:
        """Write a JSON answer (no body for 204)."""
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status == 204:
            self.end_headers()
            return
        payload = json.dumps(response.body).encode("utf-8")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        if self.server.stopping.is_set():
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


def make_server(broker: SimulatedBroker, host: str, port: int) -> PaperServer:
    """Bind the server (``port`` 0 picks a free one)."""
    return PaperServer((host, port), broker)
