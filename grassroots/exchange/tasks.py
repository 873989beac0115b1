"""Timed jobs of the exchange, run by the worker: push the outbox, pull from peers, send the
month's statistics."""

import logging

from grassroots.core.periodic import every

from . import outbound, stats
from .adapters import DeliveryError
from .models import Peer

log = logging.getLogger("grassroots.exchange")


@every(5)
def exchange_push() -> int:
    """Push due outbox messages (retries wait for their back-off)."""
    return outbound.push_due()


@every(60)
def exchange_pull() -> dict[str, int]:
    """Catch up with each peer we pull from (what a push missed while we were down)."""
    total = {"applied": 0, "duplicate": 0, "refused": 0}
    for peer in Peer.objects.filter(active=True, pull=True):
        try:
            counts = outbound.pull(peer)
        except DeliveryError as exc:
            log.warning("exchange pull from %s failed: %s", peer.code, exc)
            continue
        for k, v in counts.items():
            total[k] += v
    return total


@every(3600)
def exchange_statistics() -> int:
    """This month's statistics to the peers that receive them (a newer version each hour)."""
    return stats.send()
