"""A local HTTP stand-in for the Stripe endpoints stormcert calls, for the real SDK to talk to.

It speaks Stripe's wire format (form-encoded requests, JSON objects, Idempotency-Key replay),
keeps sessions and refunds in memory, and counts requests so tests can prove "one charge".
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header value, computed by Stripe's documented scheme."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], event_id: str = "evt_1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
        }
    ).encode()


class StripeStandIn:
    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[int, bytes]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next: str | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", "req_standin")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                standin.requests.append(("GET", self.path, {}))
                prefix = "/v1/checkout/sessions/"
                if self.path.startswith(prefix) and self.path[len(prefix) :] in standin.sessions:
                    self._reply(200, json.dumps(standin.sessions[self.path[len(prefix) :]]).encode())
                else:
                    self._reply(
                        404,
                        json.dumps(
                            {"error": {"type": "invalid_request_error", "message": "No such session"}}
                        ).encode(),
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                standin.requests.append(("POST", self.path, form))
                key = self.headers.get("Idempotency-Key")
                with standin._lock:
                    if key and key in standin.idempotent:
                        self._reply(*standin.idempotent[key])
                        return
                    status, body = standin.handle_post(self.path, form)
                    if key:
                        standin.idempotent[key] = (status, body)
                self._reply(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle_post(self, path: str, form: dict[str, str]) -> tuple[int, bytes]:
        if self.fail_next:
            message, self.fail_next = self.fail_next, None
            return 402, json.dumps({"error": {"type": "card_error", "message": message}}).encode()
        if path == "/v1/checkout/sessions":
            n = next(self._ids)
            amount = sum(int(v) for k, v in form.items() if k.endswith("[price_data][unit_amount]"))
            session = {
                "id": f"cs_test_{n}",
                "object": "checkout.session",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": form.get("line_items[0][price_data][currency]", "usd"),
                "client_reference_id": form.get("client_reference_id"),
                "payment_intent": None,
                "url": f"{self.url}/pay/cs_test_{n}",
                "metadata": {"order": form.get("metadata[order]")},
            }
            self.sessions[str(session["id"])] = session
            return 200, json.dumps(session).encode()
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            session_id = path.split("/")[4]
            if session_id not in self.sessions:
                return 404, json.dumps(
                    {"error": {"type": "invalid_request_error", "message": "No such session"}}
                ).encode()
            self.sessions[session_id].update(status="expired")
            return 200, json.dumps(self.sessions[session_id]).encode()
        if path == "/v1/refunds":
            n = next(self._ids)
            refund = {
                "id": f"re_test_{n}",
                "object": "refund",
                "status": "succeeded",
                "amount": int(form["amount"]),
                "payment_intent": form.get("payment_intent"),
            }
            self.refunds[str(refund["id"])] = refund
            return 200, json.dumps(refund).encode()
        return 404, json.dumps(
            {"error": {"type": "invalid_request_error", "message": f"Unknown {path}"}}
        ).encode()

    def pay(self, session_id: str) -> dict[str, Any]:
        """What happens when the person completes Stripe's page."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid", payment_intent=f"pi_for_{session_id}")
        return session

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p == path)

    def __enter__(self) -> StripeStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
