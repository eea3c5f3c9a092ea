"""A fake Stripe at the HTTP layer: the `stripe` library's own HTTPClient interface, installed
as `stripe.default_http_client`, answering like Stripe for the few endpoints the shop uses
(Checkout Sessions, PaymentIntents, Refunds). Our code runs unpatched down to the HTTP call.

It records every request (method, path, headers with the Idempotency-Key, decoded params,
and whether the calling thread was inside one of our transactions), and keeps Stripe's
idempotency rules: a POST replayed with the same key gets the first answer, the same key with
other parameters gets an idempotency_error, and the same key while the first request is still
running gets a 409 (which the library retries). `time_out_after_success = n` makes the next n
successful POSTs (first answers or replays) happen at "Stripe" and then time out for the
caller (RELIABILITY F5).

Webhook payloads are signed for real with stripe.WebhookSignature.generate_signature_header.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.db import connection
from django.urls import reverse

SECRET_KEY = "sk_test_x"
WEBHOOK_SECRET = "whsec_test"
API = "/v1"


@dataclass
class StripeRequest:
    method: str
    path: str
    headers: dict
    params: list[tuple[str, str]]
    in_our_transaction: bool
    status: int | str | None = None  # Stripe's answer, or "timeout" when it never came back

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def data(self) -> dict:
        return decode_params(self.params)


def decode_params(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding back into nested dicts and lists:
    line_items[0][price_data][currency]=usd → {"line_items": [{"price_data": {...}}]}."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node):
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return [lists(node[k]) for k in sorted(node, key=int)]
        return {k: lists(v) for k, v in node.items()}

    return lists(root)


def _in_our_transaction() -> bool:
    """Whether this thread's connection is inside an atomic block the code under test opened
    (the ones Django opens around a non-transactional test do not count)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _error(status: int, message: str, *, type_="invalid_request_error", code=None, param=None):
    return status, {"error": {"type": type_, "message": message, "code": code, "param": param}}


@dataclass
class FakeStripe(stripe.HTTPClient):
    name = "fake-stripe"

    latency: float = 0.0
    time_out_after_success: int = 0
    unreachable: bool = False
    session_url: object = None  # a callable(session) -> str; Stripe's hosted page otherwise
    requests: list[StripeRequest] = field(default_factory=list)
    sessions: dict = field(default_factory=dict)
    intents: dict = field(default_factory=dict)
    charges: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._replays: dict[str, tuple[tuple, int, dict]] = {}
        self._in_flight: set[str] = set()
        self._ids = itertools.count(1)
        self._intent_data: dict[str, dict] = {}

    # --- the HTTPClient interface ------------------------------------------------------------

    def _sleep_time_seconds(self, num_retries: int) -> float:
        # The library's backoff (0.5 s, 1 s ... with jitter) scaled down tenfold, like the
        # fake's latency is to Stripe's: the retries still happen, in the same proportions.
        return super()._sleep_time_seconds(num_retries) / 10

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        if post_data:
            body = post_data.decode() if isinstance(post_data, bytes) else post_data
            params += parse_qsl(body, keep_blank_values=True)
        recorded = StripeRequest(
            method=method.upper(),
            path=parts.path,
            headers=dict(headers or {}),
            params=params,
            in_our_transaction=_in_our_transaction(),
        )
        with self._lock:
            self.requests.append(recorded)
        if self.unreachable:
            recorded.status = "unreachable"
            raise stripe.APIConnectionError("Could not connect to Stripe.", should_retry=True)
        recorded.status = "timeout"
        if recorded.method == "POST":
            status, answer = self._post_once(recorded)
        else:
            with self._lock:
                status, answer = self._route(recorded)
        recorded.status = status
        return json.dumps(answer), status, {"request-id": f"req_{next(self._ids)}"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        # Required by stripe.HTTPClient; the shop's gateway never asks for a stream, so a
        # call here is a test failure, not a missing feature.
        raise AssertionError("The shop's Stripe gateway made a streaming request.")

    def close(self):
        pass

    def _post_once(self, req: StripeRequest):
        status, answer = self._post_idempotent(req)
        with self._lock:
            times_out = status == 200 and self.time_out_after_success > 0
            if times_out:
                self.time_out_after_success -= 1
        if times_out:
            raise stripe.APIConnectionError("Request timed out.", should_retry=True)
        return status, answer

    def _post_idempotent(self, req: StripeRequest):
        key = req.idempotency_key
        fingerprint = (req.path, tuple(sorted(req.params)))
        with self._lock:
            if key in self._replays:
                seen, status, answer = self._replays[key]
                if seen != fingerprint:
                    return _error(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters.",
                        type_="idempotency_error",
                    )
                return status, copy.deepcopy(answer)
            if key in self._in_flight:
                return _error(
                    409,
                    "There is currently another in-progress request using this key.",
                    code="idempotency_key_in_use",
                )
            self._in_flight.add(key)
        try:
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                status, answer = self._route(req)
                self._replays[key] = (fingerprint, status, copy.deepcopy(answer))
        finally:
            with self._lock:
                self._in_flight.discard(key)
        return status, answer

    # --- Stripe's endpoints ------------------------------------------------------------------

    def _route(self, req: StripeRequest):
        path, method = req.path, req.method
        if method == "POST" and path == f"{API}/checkout/sessions":
            return self._session_create(req.data)
        if method == "POST" and (
            match := re.fullmatch(f"{API}/checkout/sessions/([^/]+)/expire", path)
        ):
            return self._session_expire(match[1])
        if method == "GET" and (match := re.fullmatch(f"{API}/checkout/sessions/([^/]+)", path)):
            return self._found(self.sessions, match[1], "checkout session")
        if method == "GET" and (match := re.fullmatch(f"{API}/payment_intents/([^/]+)", path)):
            status, intent = self._found(self.intents, match[1], "payment_intent")
            if status == 200 and "latest_charge" in (req.data.get("expand") or []):
                intent["latest_charge"] = copy.deepcopy(self.charges.get(intent["latest_charge"]))
            return status, intent
        if method == "POST" and path == f"{API}/refunds":
            return self._refund_create(req.data)
        return _error(404, f"Unrecognized request URL ({method}: {path}).")

    def _found(self, objects: dict, object_id: str, kind: str):
        if object_id not in objects:
            return _error(404, f"No such {kind}: '{object_id}'", code="resource_missing")
        return 200, copy.deepcopy(objects[object_id])

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    def _session_create(self, data: dict):
        line = data["line_items"][0]
        price = line["price_data"]
        session_id = self._new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": data["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(price["unit_amount"]) * int(line["quantity"]),
            "currency": price["currency"],
            "client_reference_id": data.get("client_reference_id"),
            "customer_email": data.get("customer_email"),
            "metadata": data.get("metadata", {}),
            "payment_intent": None,
            "success_url": data["success_url"],
            "cancel_url": data["cancel_url"],
            "livemode": False,
            "url": None,
        }
        session["url"] = (
            self.session_url(session)
            if callable(self.session_url)
            else f"https://checkout.stripe.test/c/pay/{session_id}"
        )
        self.sessions[session_id] = session
        self._intent_data[session_id] = data.get("payment_intent_data", {})
        return 200, copy.deepcopy(session)

    def _session_expire(self, session_id: str):
        status, session = self._found(self.sessions, session_id, "checkout session")
        if status != 200:
            return status, session
        if session["status"] != "open":
            return _error(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f'Checkout Session has a status of "{session["status"]}".',
            )
        self.sessions[session_id].update(status="expired", url=None)
        return 200, copy.deepcopy(self.sessions[session_id])

    def _refund_create(self, data: dict):
        intent = self.intents.get(data.get("payment_intent"))
        if intent is None or intent["status"] != "succeeded":
            return _error(400, "This PaymentIntent has no successful charge to refund.")
        charge = self.charges[intent["latest_charge"]]
        amount = int(data.get("amount") or charge["amount"] - charge["amount_refunded"])
        if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
            return _error(
                400, "Refund amount is greater than unrefunded amount on charge.", param="amount"
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": self._new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "payment_intent": intent["id"],
            "charge": charge["id"],
            "metadata": data.get("metadata", {}),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, copy.deepcopy(refund)

    # --- what happens on Stripe's side, driven by the tests ----------------------------------

    def _intent_for(self, session: dict, *, amount: int | None = None) -> dict:
        intent_id = session["payment_intent"]
        if intent_id is None:
            intent_id = self._new_id("pi")
            session["payment_intent"] = intent_id
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "status": "requires_payment_method",
                "amount": amount if amount is not None else session["amount_total"],
                "amount_received": 0,
                "currency": session["currency"],
                "metadata": dict(self._intent_data[session["id"]].get("metadata", {})),
                "latest_charge": None,
                "last_payment_error": None,
                "livemode": False,
            }
        return self.intents[intent_id]

    def pay(self, session_id: str, *, amount: int | None = None) -> dict:
        """The buyer pays the session on Stripe's page: its PaymentIntent succeeds."""
        with self._lock:
            session = self.sessions[session_id]
            intent = self._intent_for(session, amount=amount)
            charge_id = self._new_id("ch")
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": intent["amount"],
                "amount_refunded": 0,
                "refunded": False,
                "currency": intent["currency"],
                "payment_intent": intent["id"],
                "status": "succeeded",
                "metadata": {},
            }
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge_id,
                last_payment_error=None,
            )
            session.update(status="complete", payment_status="paid")
            return copy.deepcopy(intent)

    def decline(self, session_id: str, message: str = "Your card was declined.") -> dict:
        """An attempt on the session's page fails: the PaymentIntent wants another card."""
        with self._lock:
            intent = self._intent_for(self.sessions[session_id])
            intent.update(
                status="requires_payment_method",
                last_payment_error={"code": "card_declined", "message": message},
            )
            return copy.deepcopy(intent)

    def refund_in_dashboard(self, intent_id: str) -> dict:
        """Someone refunds the whole charge in Stripe's dashboard, not through the shop."""
        with self._lock:
            charge = self.charges[self.intents[intent_id]["latest_charge"]]
            charge.update(amount_refunded=charge["amount"], refunded=True)
            return copy.deepcopy(charge)

    def expire(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id].update(status="expired", url=None)

    def event(self, event_type: str, object_id: str) -> dict:
        """A Stripe event about the object as it is now (a later change does not alter it)."""
        with self._lock:
            for objects in (self.sessions, self.intents, self.charges):
                if object_id in objects:
                    obj = copy.deepcopy(objects[object_id])
                    break
            else:
                raise KeyError(object_id)
            return {
                "id": self._new_id("evt"),
                "object": "event",
                "type": event_type,
                "api_version": "2025-09-30.clover",
                "created": int(time.time()),
                "livemode": False,
                "pending_webhooks": 1,
                "data": {"object": obj},
            }

    # --- what the tests read ------------------------------------------------------------------

    def posts(self, path: str) -> list[StripeRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == f"{API}{path}"]

    def sessions_for(self, order) -> list[dict]:
        return [s for s in self.sessions.values() if s["metadata"].get("order_id") == str(order.pk)]


@contextmanager
def fake_stripe(settings, **options):
    """Install a FakeStripe as the library's HTTP client, with test keys in settings."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake = FakeStripe(**options)
    previous = stripe.default_http_client
    stripe.default_http_client = fake
    try:
        yield fake
    finally:
        stripe.default_http_client = previous


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """The JSON body of `event` and its Stripe-Signature header."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return body, header


def deliver(client, event: dict, **signing):
    """POST a signed event to the webhook, as Stripe does."""
    body, header = signed(event, **signing)
    return client.post(
        reverse("payments:stripe_webhook"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def start_checkout(order, *, host: str = "http://testserver") -> str:
    """Open the order's Checkout Session through the shop's gateway, as card_start does;
    returns the session id."""
    from orders import stripe_gateway
    from orders.models import Payment, PaymentMethod

    stripe_gateway.checkout_session_url(
        order=order,
        success_url=f"{host}{reverse('payments:card_return', args=[order.number])}"
        "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=f"{host}{order.get_absolute_url()}",
    )
    return Payment.objects.get(order=order, method=PaymentMethod.CARD).provider_id
