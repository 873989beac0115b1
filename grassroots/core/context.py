"""Per-request context (request id, acting user) that audit rows pick up."""

import contextvars
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request or job being served, or a fresh one for scripts."""
    rid = request_id_var.get()
    if not rid:
        rid = uuid.uuid4().hex
        request_id_var.set(rid)
    return rid
