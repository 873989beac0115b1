"""The adapter boundary: every inbound and outbound exchange goes through one interface.

`FederationAdapter` (HTTPS + JSON, this platform's own protocol, docs/exchange.md) is the first
implementation. A ministry connector (e.g. through the provincial LGSP) implements the same
three methods (and may implement `send_batch`) and is named in the peer's `adapter` field;
docs/exchange.md lists what it must do.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any, Protocol
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from grassroots_protocol import format_time

from . import federation, keys
from .errors import (
    DeliveryError,
    ErrorKind,
    answer_error,
    connection_error,
    host_of,
    http_error,
)

__all__ = ["DeliveryError", "ErrorKind", "FederationAdapter", "adapter_for", "send_each"]

TIMEOUT = 60  # seconds per HTTP call (a batch); the worker, never a web request, waits on it
USER_AGENT = "grassroots-exchange/1.1"


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
    """A failed single send as a batch receipt: refused for good (4xx) or deferred. The
    error itself rides along (`error`), so the outbox records what the transport said."""
    return {
        "index": index,
        "id": envelope.get("id", ""),
        "version": envelope.get("version"),
        "outcome": "refused" if exc.permanent else "deferred",
        "status": exc.status if exc.permanent and exc.status else 503,
        "reason": exc.reason,
        "detail": exc.detail,
        "error": exc,
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
        raise DeliveryError(
            _("địa chỉ %(url)s không hợp lệ: phải bắt đầu bằng https:// hoặc http://")
            % {"url": url[:100]},
            permanent=True, kind=ErrorKind.ADDRESS, technical=url[:500],
        )  # fmt: skip
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, method=method, headers={"User-Agent": USER_AGENT, **headers}
    )
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - scheme checked
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read(64 * 1024)
        raise http_error(url, exc.code, body, exc.headers.get("Content-Type", "")) from None
    except (OSError, http.client.HTTPException) as exc:
        raise connection_error(url, exc, timeout=TIMEOUT) from None


def _read_json(url: str, response) -> Any:
    """The answer's JSON; an answer that is not JSON (or breaks off) is a DeliveryError."""
    try:
        return json.loads(response.read() or b"{}")
    except ValueError as exc:
        raise answer_error(url, exc) from None
    except (OSError, http.client.HTTPException) as exc:
        raise connection_error(url, exc, timeout=TIMEOUT) from None


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
                _("%(host)s trả %(r)s biên nhận cho %(n)s thông điệp")
                % {"host": host_of(peer.url), "r": len(receipts), "n": len(envelopes)},
                kind=ErrorKind.ANSWER,
            )  # fmt: skip
        return [r.model_dump() for r in receipts]

    def send(self, peer, envelope: dict[str, Any]) -> dict[str, Any]:
        return self._post(peer, envelope)

    def _post(self, peer, document: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        url = f"{_base(peer)}/api/v1/exchange/inbox"
        with _open(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        ) as response:
            return _read_json(url, response)

    def fetch(self, peer, after: int, limit: int = 500) -> federation.MessagePage:
        path = f"/api/v1/exchange/messages?{urlencode({'after': after, 'limit': limit})}"
        date = format_time(timezone.now())
        headers = {
            "X-Exchange-Source": keys.own_id(),
            "X-Exchange-Date": date,
            "X-Exchange-Kid": keys.key_id(),
            "X-Exchange-Signature": keys.sign_request("GET", path, date),
        }
        url = f"{_base(peer)}{path}"
        with _open(url, headers=headers) as response:
            answer = _read_json(url, response)
        try:
            return federation.MessagePage.model_validate(answer)
        except ValueError as exc:  # pydantic's ValidationError: kept as the technical detail
            raise answer_error(url, exc) from None

    def fetch_media(self, peer, url: str, max_bytes: int) -> bytes:
        if url.startswith("/"):
            url = f"{_base(peer)}{url}"
        with _open(url, headers={}) as response:
            try:
                data = response.read(max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                raise connection_error(url, exc, timeout=TIMEOUT) from None
        if len(data) > max_bytes:
            raise DeliveryError(
                _("tệp %(url)s lớn hơn kích thước đã khai") % {"url": url[:100]},
                permanent=True, kind=ErrorKind.ANSWER, technical=url[:500],
            )  # fmt: skip
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
