"""Exchange: 10,000 bulletins and 100,000 statistics rows through the federation protocol.

One instance plays both ends: it is declared as its own peer (its own key and id), and a
gunicorn on the bench database serves its inbox and its messages. Every message is signed,
sent over HTTP, verified (peer, key, signature, hash, scope, version) and taken exactly as
another system's would be. Measured:

- push: 10,000 bulletin messages from the outbox to the inbox (messages/s);
- statistics: 100,000 commune-month rows in 50 messages of 2,000 rows (rows/s);
- catch-up after a one-hour outage: the peer was down while an hour of messages queued
  (`BENCH_EXCHANGE_HOUR`, default 600 bulletins: ten a minute, far above a real hour's
  traffic, plus one month of statistics for every commune) and then pulls them with the
  cursor (seconds; goal < 60 s);
- a second pull of the same backlog (everything a duplicate): nothing changes.
"""

from __future__ import annotations

import os
import time

BULLETINS = int(os.environ.get("BENCH_EXCHANGE_BULLETINS", "10000"))
STAT_ROWS = int(os.environ.get("BENCH_EXCHANGE_STAT_ROWS", "100000"))
PER_MESSAGE = 2000
HOUR = int(os.environ.get("BENCH_EXCHANGE_HOUR", "600"))
PREFIX = f"bench-{int(time.time())}"


def run() -> dict:
    from django.core.management import call_command
    from django.db import transaction

    from grassroots.accounts.demo import load_demo
    from grassroots.content.models import Bulletin
    from grassroots.core.broker import free_port
    from grassroots.exchange import keys, outbound
    from grassroots.exchange.choices import DeliveryStatus, Kind
    from grassroots.exchange.models import OutboundMessage, Peer, PeerKey, UnitMonth
    from grassroots.units.models import Unit

    from .api import start_gunicorn

    call_command("migrate", verbosity=0)
    load_demo()
    port = free_port()
    Peer.objects.filter(code=keys.own_id()).delete()
    peer = Peer.objects.create(
        code=keys.own_id(),
        name="bench",
        url=f"http://127.0.0.1:{port}",
        unit=Unit.objects.current().get(code="33"),
    )
    PeerKey.objects.create(peer=peer, kid=keys.key_id(), public_key=keys.public_key_b64())
    communes = list(Unit.objects.current().filter(parent__code="33").values_list("code", flat=True))

    def bulletin(n: int) -> dict:
        return {
            "title": f"Bản tin thử tải {n}",
            "text": "Nội dung bản tin thử tải.\n\nĐoạn thứ hai.",
            "priority": "priority" if n % 10 == 0 else "normal",
            "targets": [communes[n % len(communes)]],
        }

    def emit(kind: str, ids_bodies) -> float:
        start = time.perf_counter()
        with transaction.atomic():
            for message_id, body in ids_bodies:
                outbound.emit(peers=[peer], kind=kind, message_id=message_id, body=body)
        return time.perf_counter() - start

    web = start_gunicorn(port)
    try:
        # push: 10,000 bulletins
        emit_s = emit(Kind.BULLETIN, ((f"{PREFIX}:b:{n}", bulletin(n)) for n in range(BULLETINS)))
        start = time.perf_counter()
        while outbound.push_due(limit=500):
            pass
        push_s = time.perf_counter() - start
        pushed = OutboundMessage.objects.filter(
            peer=peer, message_id__startswith=f"{PREFIX}:b:", status=DeliveryStatus.DELIVERED
        ).count()

        # statistics: 100,000 rows
        messages = max(1, STAT_ROWS // PER_MESSAGE)
        rows = [
            {
                "unit": f"S{n:07d}",
                "indicators": {"essential_reach": 90.0, "speaker_uptime": 97.5},
                "counters": {"plays": 300, "reports_handled": 4},
                "devices": {"total": 20, "online": 19, "availability": 97.5},
            }
            for n in range(PER_MESSAGE)
        ]
        stat_ids = []
        for m in range(messages):
            month = f"{2000 + m // 12}-{m % 12 + 1:02d}"
            body = {"province": "33", "month": month, "units": rows}
            stat_ids.append((f"{PREFIX}:s:{month}", body))
        emit(Kind.STATISTICS, stat_ids)
        start = time.perf_counter()
        while outbound.push_due(limit=10):
            pass
        stats_s = time.perf_counter() - start
        stored = UnitMonth.objects.filter(peer=peer, unit_code__startswith="S").count()

        # catch-up: the peer was down for an hour while messages queued; it pulls them
        peer.refresh_from_db()
        Peer.objects.filter(pk=peer.pk).update(pull_cursor=OutboundMessage.objects.latest("id").pk)
        peer.refresh_from_db()
        emit(Kind.BULLETIN, ((f"{PREFIX}:h:{n}", bulletin(n)) for n in range(HOUR)))
        emit(
            Kind.STATISTICS,
            [(f"{PREFIX}:s:outage", {"province": "33", "month": "2026-11", "units": rows})],
        )
        cursor_before = peer.pull_cursor
        start = time.perf_counter()
        counts = outbound.pull(peer, limit=500)
        catch_up_s = time.perf_counter() - start
        Peer.objects.filter(pk=peer.pk).update(pull_cursor=cursor_before)
        peer.refresh_from_db()
        start = time.perf_counter()
        again = outbound.pull(peer, limit=500)
        again_s = time.perf_counter() - start
        taken = Bulletin.objects.filter(title__startswith="Bản tin thử tải").count()
    finally:
        web.terminate()
        web.wait(15)
    return {
        "bulletins": {
            "messages": BULLETINS,
            "delivered": pushed,
            "emit_s": round(emit_s, 2),
            "push_s": round(push_s, 2),
            "push_per_s": round(pushed / push_s, 1) if push_s else None,
        },
        "statistics": {
            "rows": stored,
            "messages": messages,
            "push_s": round(stats_s, 2),
            "rows_per_s": round(stored / stats_s) if stats_s else None,
        },
        "catch_up": {
            "outage_messages": HOUR + 1,
            "applied": counts["applied"],
            "seconds": round(catch_up_s, 2),
            "goal_s": 60,
            "per_s": round((HOUR + 1) / catch_up_s, 1) if catch_up_s else None,
            "again_duplicates": again["duplicate"],
            "again_applied": again["applied"],
            "again_s": round(again_s, 2),
        },
        "bulletins_stored": taken,
    }
