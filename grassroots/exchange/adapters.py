"""The adapter boundary: every inbound and outbound exchange goes through one interface.

`FederationAdapter` (HTTPS + JSON, this platform's own protocol, docs/exchange.md) is the first
implementation. A ministry connector (e.g. through the provincial LGSP) implements the same
three methods (and may implement `send_batch`) and is named in the peer's `adapter` field;
docs/exchange.md lists what it must do.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Protocol
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.module_loading import import_string

from grassroots_protocol import format_time

from . import federation, keys

TIMEOUT = 60  # seconds per HTTP call (a batch); the worker, never a web request, waits on it
USER_AGENT = "grassroots-exchange/1.1"


class DeliveryError(Exception):
    """A message could not be handed over. `permanent` when retrying cannot help (the peer
    refused it: 4xx); otherwise it is retried with back-off."""

    def __init__(self, detail: str, *, permanent: bool = False, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.status = status


class Adapter(Protocol):
    """What every exchange connector implements."""

    def send(self, peer, envelope: dict[str, Any]) -> dict[str, Any]:
        """Hand one signed message to the peer; its receipt, or DeliveryError."""

    def fetch(self, peer, after: int, limit: int = 500) -> federation.MessagePage:
        """The peer's messages for us after the cursor `after` (pull, catch-up)."""

    def fetch_media(self, peer, url: str, max_bytes: int) -> bytes:
        """The bytes of a file a message refers to (checked against its SHA-256 by the caller)."""

    # optional: send_batch(peer, envelopes) -> list of receipts (federation.BatchItemReceipt);
    # without it the outbox sends one message at a time through `send` (`send_each`).


def _receipt_of_error(index: int, envelope: dict[str, Any], exc: DeliveryError) -> dict:
    """A failed single send as a batch receipt: refused for good (4xx) or deferred."""
    return {
        "index": index,
        "id": envelope.get("id", ""),
        "version": envelope.get("version"),
        "outcome": "refused" if exc.permanent else "deferred",
        "status": exc.status if exc.permanent and exc.status else 503,
        "reason": "",
        "detail": exc.detail,
    }


def send_each(adapter, peer, envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send one message at a time, as receipts of a batch: a message the peer refused does not
    stop the others; one that could not be delivered (the peer is down) defers the rest."""
    receipts: list[dict[str, Any]] = []
    for index, envelope in enumerate(envelopes):
        if receipts and receipts[-1]["outcome"] == "deferred":
            receipts.append({**receipts[-1], "index": index, "id": envelope.get("id", ""),
                             "version": envelope.get("version")})  # fmt: skip
            continue
        try:
            answer = adapter.send(peer, envelope)
        except DeliveryError as exc:
            receipts.append(_receipt_of_error(index, envelope, exc))
            continue
        outcome = answer.get("outcome") if isinstance(answer, dict) else None
        receipts.append({
            "index": index, "id": envelope.get("id", ""), "version": envelope.get("version"),
            "outcome": outcome if outcome in ("applied", "duplicate") else "applied",
            "status": 200 if outcome == "duplicate" else 202, "reason": "", "detail": "",
        })  # fmt: skip
    return receipts


def _base(peer) -> str:
    return peer.url.rstrip("/")


def _open(url: str, *, data: bytes | None = None, headers: dict[str, str], method: str = "GET"):
    """urlopen for http(s) only (peer addresses and media links are checked here, once)."""
    if not url.startswith(("https://", "http://")):
        raise DeliveryError(f"địa chỉ không hợp lệ: {url[:100]}", permanent=True)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, method=method, headers={"User-Agent": USER_AGENT, **headers}
    )
    return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - scheme checked


def _problem_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
        return str(data.get("detail") or data.get("title") or "")[:400]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


class FederationAdapter:
    """This platform's protocol over HTTPS: POST to the inbox (a batch of messages, protocol
    1.1), GET messages after a cursor."""

    batches = True

    def send_batch(self, peer, envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST the messages as one batch; one receipt per message (`BatchItemReceipt`), or
        DeliveryError when the batch as a whole did not arrive (retried). A receiver that does
        not know batches (protocol 1.0) refuses the batch as a whole: then one message at a
        time."""
        if not self.batches or len(envelopes) == 1:
            return send_each(self, peer, envelopes)
        document = {"protocol": federation.BATCH_PROTOCOL, "messages": envelopes}
        try:
            answer = self._post(peer, document)
        except DeliveryError as exc:
            if exc.status in (400, 404, 405, 413, 415, 422):
                return send_each(self, peer, envelopes)
            raise
        try:
            receipts = federation.BatchReceipt.model_validate(answer).receipts
        except ValueError:
            return send_each(self, peer, envelopes)
        if len(receipts) != len(envelopes):
            raise DeliveryError(
                f"hệ thống nhận trả {len(receipts)} biên nhận cho {len(envelopes)} thông điệp"
            )
        return [r.model_dump() for r in receipts]

    def send(self, peer, envelope: dict[str, Any]) -> dict[str, Any]:
        return self._post(peer, envelope)

    def _post(self, peer, document: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            with _open(
                f"{_base(peer)}/api/v1/exchange/inbox",
                data=data,
                method="POST",
                headers={"Content-Type": "application/json"},
            ) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code}: {_problem_detail(exc.read())}"
            # 4xx: the peer read the message and refused it; 408/429 and 5xx: try again later
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            raise DeliveryError(detail, permanent=permanent, status=exc.code) from None
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"không kết nối được: {exc}") from None

    def fetch(self, peer, after: int, limit: int = 500) -> federation.MessagePage:
        path = f"/api/v1/exchange/messages?{urlencode({'after': after, 'limit': limit})}"
        date = format_time(timezone.now())
        headers = {
            "X-Exchange-Source": keys.own_id(),
            "X-Exchange-Date": date,
            "X-Exchange-Kid": keys.key_id(),
            "X-Exchange-Signature": keys.sign_request("GET", path, date),
        }
        try:
            with _open(f"{_base(peer)}{path}", headers=headers) as response:
                return federation.MessagePage.model_validate(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            raise DeliveryError(
                f"HTTP {exc.code}: {_problem_detail(exc.read())}", status=exc.code
            ) from None
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"không kết nối được: {exc}") from None

    def fetch_media(self, peer, url: str, max_bytes: int) -> bytes:
        if url.startswith("/"):
            url = f"{_base(peer)}{url}"
        try:
            with _open(url, headers={}) as response:
                data = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code} khi tải {url[:100]}", status=exc.code) from None
        except OSError as exc:
            raise DeliveryError(f"không tải được {url[:100]}: {exc}") from None
        if len(data) > max_bytes:
            raise DeliveryError(f"tệp {url[:100]} lớn hơn kích thước đã khai", permanent=True)
        return data


class FederationAdapter10(FederationAdapter):
    """A peer that speaks only protocol 1.0: one message per POST (no batch tried first)."""

    batches = False


ADAPTERS = {
    "federation": "grassroots.exchange.adapters.FederationAdapter",
    "federation-1.0": "grassroots.exchange.adapters.FederationAdapter10",
}


def adapter_for(peer) -> Adapter:
    """The connector the peer is reached through (its `adapter` field, a key of ADAPTERS or
    a dotted path)."""
    name = getattr(peer, "adapter", "") or "federation"
    return import_string(ADAPTERS.get(name, name))()
