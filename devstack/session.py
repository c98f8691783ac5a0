"""The dev session, run under the emulators: seed the demo user, print how to call it, wait."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from devstack.broker import PaperBroker
from devstack.demo import FUNCTIONS
from devstack.firebase import PROJECT, Stack
from devstack.seed import DEMO_TARGETS, seed_demo
from devstack.web import app_url

EXAMPLES = [
    ("check_rebalance_drift", '{"data": {"dry_run": true}}'),
    ("check_rebalance_drift", '{"data": {}}'),
    ("get_targets", '{"data": {}}'),
    ("set_targets", '{"data": {"allocations": ' + str(DEMO_TARGETS).replace("'", '"') + "}}"),
    ("propose_plan", '{"data": {"strategy": "tax_aware"}}'),
    ("propose_plan", '{"data": {"strategy": "cash_flow", "cash_to_invest": 10000}}'),
    ("update_settings", '{"data": {"strategy": "tax_aware", "avoid_short_term_gains": true}}'),
    ("get_settings", '{"data": {}}'),
    ("get_schedule", '{"data": {}}'),
    ("execute_trade", '{"data": {"symbol": "SPY", "side": "buy", "qty": 1.5}}'),
    ("execute_trade", '{"data": {"symbol": "SPY", "side": "buy", "notional": 250}}'),
    ("unlink_broker", '{"data": {}}'),
]


def main() -> int:
    """Seed, print the curl commands, and stay up until the emulators stop us."""
    stack = Stack.discover()
    stack.wait_for_functions(FUNCTIONS)
    broker = PaperBroker.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        demo = seed_demo(stack, broker, "demo@example.com")
        account = demo.account
        web_url = app_url()
        print(f"""
==============================================================================
Local stack is up. Demo user demo@example.com / password-123 (uid {demo.user.uid})
Web app    {web_url}   (sign in as the demo user)
Paper account {account["account_number"]} at {broker.url}
  key id {account["api_key_id"]}  secret {account["secret_key"]}
Functions  http://{stack.functions}/{PROJECT}/us-central1/<name>
Firestore  http://{stack.firestore}   Auth http://{stack.auth}

export TOKEN='{demo.user.id_token}'
# (tokens last an hour; a fresh one:)
# export TOKEN=$(curl -s -X POST 'http://{stack.auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=fake' \\
#   -H 'Content-Type: application/json' -d '{{"email":"demo@example.com","password":"password-123","returnSecureToken":true}}' \\
#   | python3 -c 'import json,sys; print(json.load(sys.stdin)["idToken"])')
""")
        for name, body in EXAMPLES:
            print(f"curl -s -X POST {stack.function_url(name)} \\")
            print("  -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\")
            print(f"  -d '{body}'\n")
        print(
            f"""# The kill-switch (what an admin flips in the console), through Firestore's REST API:
curl -s -X PATCH '{stack.firestore_url("systemStatus/risk_management")}' \\
  -H 'Authorization: Bearer owner' -H 'Content-Type: application/json' \\
  -d '{{"fields": {{"trading_enabled": {{"booleanValue": false}}, "reason": {{"stringValue": "maintenance"}}}}}}'
# The paper broker's control API (prices, clock, faults): docs/paper-broker.md
curl -s -X POST {broker.url}/_paper/prices -d '{{"prices": {{"SPY": "560"}}}}'

Press Ctrl-C to stop everything.
==============================================================================""",
            flush=True,
        )
        stop.wait()
        return 0
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
