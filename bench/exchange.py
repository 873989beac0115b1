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
- a second pull of the same backlog (everything a duplicate): nothing changes;
- the floor, measured in the same run: the same bulletin envelopes only parsed and their
  Ed25519 signatures verified in this process (no HTTP, no database), messages/s.

Push sends batches (protocol 1.1, `outbound.BATCH_MESSAGES` a POST). The machine's load average
is recorded with the numbers, and so is the CPU time the platform's own processes spent per
message (the gunicorn workers and this process; PostgreSQL's not counted): wall-clock rates
fall when the cores are shared with other work, CPU per message does not.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

BULLETINS = int(os.environ.get("BENCH_EXCHANGE_BULLETINS", "10000"))
STAT_ROWS = int(os.environ.get("BENCH_EXCHANGE_STAT_ROWS", "100000"))
PER_MESSAGE = 2000
HOUR = int(os.environ.get("BENCH_EXCHANGE_HOUR", "600"))
PREFIX = f"bench-{int(time.time())}"
TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """User + system CPU seconds of one process (/proc/<pid>/stat), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(entry))
    return out


def _stop(web) -> None:
    """Stop the web server; a loaded machine may take a while, which is no reason to lose the
    measurements taken."""
    import subprocess

    web.terminate()
    try:
        web.wait(60)
    except subprocess.TimeoutExpired:
        web.kill()
        web.wait(15)


class CpuMeter:
    """CPU seconds spent by this process and the web server's workers between two reads."""

    def __init__(self, web_pid: int) -> None:
        self.pids = [web_pid, *_children(web_pid)]
        self.start = self._now()

    def _now(self) -> float:
        own = os.times()
        return own.user + own.system + sum(_cpu(pid) for pid in self.pids)

    def lap(self) -> float:
        now = self._now()
        spent, self.start = now - self.start, now
        return spent


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

    def floor(envelopes: list[dict]) -> float:
        """Messages/s that only parse and verify (the cryptographic floor of the inbox)."""
        from grassroots.exchange import federation

        public = keys.public_key_b64()
        start = time.perf_counter()
        for data in envelopes:
            federation.parse_envelope(data)
            assert federation.signature_valid(data, public)
        return len(envelopes) / (time.perf_counter() - start)

    load_before = os.getloadavg()
    web = start_gunicorn(port)
    loads = {}
    try:
        cpu = CpuMeter(web.pid)
        # push: 10,000 bulletins
        emit_s = emit(Kind.BULLETIN, ((f"{PREFIX}:b:{n}", bulletin(n)) for n in range(BULLETINS)))
        cpu.lap()
        start = time.perf_counter()
        while outbound.push_due(limit=500):
            pass
        push_s = time.perf_counter() - start
        push_cpu = cpu.lap()
        loads["push"] = os.getloadavg()[0]
        pushed = OutboundMessage.objects.filter(
            peer=peer, message_id__startswith=f"{PREFIX}:b:", status=DeliveryStatus.DELIVERED
        ).count()
        sample = [
            json.loads(e)
            for e in OutboundMessage.objects.filter(
                peer=peer, message_id__startswith=f"{PREFIX}:b:"
            ).values_list("envelope", flat=True)[:2000]
        ]
        floor_per_s = floor(sample)

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
        cpu.lap()
        start = time.perf_counter()
        while outbound.push_due(limit=100):
            pass
        stats_s = time.perf_counter() - start
        stats_cpu = cpu.lap()
        loads["statistics"] = os.getloadavg()[0]
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
        cpu.lap()
        start = time.perf_counter()
        counts = outbound.pull(peer, limit=500)
        catch_up_s = time.perf_counter() - start
        catch_up_cpu = cpu.lap()
        loads["catch_up"] = os.getloadavg()[0]
        Peer.objects.filter(pk=peer.pk).update(pull_cursor=cursor_before)
        peer.refresh_from_db()
        start = time.perf_counter()
        again = outbound.pull(peer, limit=500)
        again_s = time.perf_counter() - start
        taken = Bulletin.objects.filter(title__startswith="Bản tin thử tải").count()
    finally:
        _stop(web)
    push_per_s = pushed / push_s if push_s else 0
    return {
        "load_average": {
            "before": round(load_before[0], 2),
            **{f"after_{k}": round(v, 2) for k, v in loads.items()},
            "cores": os.cpu_count(),
        },
        "bulletins": {
            "messages": BULLETINS,
            "delivered": pushed,
            "batch": outbound.BATCH_MESSAGES,
            "emit_s": round(emit_s, 2),
            "push_s": round(push_s, 2),
            "push_per_s": round(push_per_s, 1),
            "floor_verify_per_s": round(floor_per_s),
            "share_of_floor": round(push_per_s / floor_per_s, 3) if floor_per_s else None,
            "cpu_s": round(push_cpu, 1),
            "cpu_ms_per_message": round(1000 * push_cpu / pushed, 2) if pushed else None,
            "per_s_if_one_core": round(pushed / push_cpu, 1) if push_cpu else None,
        },
        "statistics": {
            "rows": stored,
            "messages": messages,
            "push_s": round(stats_s, 2),
            "rows_per_s": round(stored / stats_s) if stats_s else None,
            "cpu_s": round(stats_cpu, 1),
            "rows_per_cpu_s": round(stored / stats_cpu) if stats_cpu else None,
        },
        "catch_up": {
            "outage_messages": HOUR + 1,
            "applied": counts["applied"],
            "seconds": round(catch_up_s, 2),
            "goal_s": 60,
            "within_goal": catch_up_s < 60 and counts["applied"] == HOUR + 1,
            "per_s": round((HOUR + 1) / catch_up_s, 1) if catch_up_s else None,
            "cpu_s": round(catch_up_cpu, 1),
            "again_duplicates": again["duplicate"],
            "again_applied": again["applied"],
            "again_s": round(again_s, 2),
        },
        "bulletins_stored": taken,
    }
