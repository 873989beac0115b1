"""The agent's SQLite state: accepted command sequences, the as-run journal, the cache index."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS seq (kid TEXT PRIMARY KEY, seq INTEGER NOT NULL,
                                seen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS asrun (
  id TEXT PRIMARY KEY,
  item_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  scheduled_start TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL,
  cut_by TEXT,
  reason TEXT,
  acked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS asrun_pending ON asrun (acked, ended_at);
CREATE TABLE IF NOT EXISTS cache (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL,
                                  last_used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT);
"""

ASRUN_FIELDS = (
    "id",
    "item_id",
    "kind",
    "scheduled_start",
    "started_at",
    "ended_at",
    "status",
    "cut_by",
    "reason",
)


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    """The upload form of an entry: the server calls the schedule item id `item`."""
    row["item"] = row.pop("item_id")
    return row


# How far behind the highest accepted seq a command may still arrive (commands to a device's own
# topic and to its units' topics are separate MQTT streams, so their order may interleave).
SEQ_WINDOW = 60
_ALL_SEEN = (1 << SEQ_WINDOW) - 1


class SeqVerdict:
    """The outcome of checking a command's seq against the replay window."""

    NEW = "new"
    DUPLICATE = "duplicate"  # this exact seq was accepted before
    TOO_OLD = "too_old"  # older than the window: cannot tell, so refused


@dataclass
class AsRun:
    """One as-run journal entry: what actually played, from when to when, and how it ended."""

    id: str
    item_id: str
    kind: str
    scheduled_start: str | None
    started_at: str
    ended_at: str | None = None
    status: str = "playing"
    cut_by: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return _wire(dict(zip(ASRUN_FIELDS, (getattr(self, f) for f in ASRUN_FIELDS), strict=True)))


class Store:
    """A small thread-safe wrapper around one SQLite file (WAL, one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._cache_totals: tuple[int, int] | None = None
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(seq)")}
        if (
            "seen" not in columns
        ):  # a journal from before the replay window: older seqs count as seen
            self._db.execute(
                f"ALTER TABLE seq ADD COLUMN seen INTEGER NOT NULL DEFAULT {_ALL_SEEN}"
            )
        self._seq: dict[str, tuple[int, int]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- command sequences -------------------------------------------------------------
    def accept_seq(self, kid: str, seq: int) -> str:
        """Check `seq` for `kid` against the replay window and record it if it is new.

        The window holds the highest seq accepted and a bitmap of the `SEQ_WINDOW` seqs below
        it (like IPsec's anti-replay window): a seq above the highest is new; one inside the
        window is new only if its bit is clear; anything older is refused. One indexed read
        (cached in memory) and one write per accepted command, before the command acts.
        """
        with self._lock:
            state = self._seq.get(kid)
            if state is None:
                row = self._db.execute("SELECT seq, seen FROM seq WHERE kid = ?", (kid,)).fetchone()
                state = (row[0], row[1]) if row else (-1, 0)
            top, seen = state
            if seq > top:
                shift = seq - top
                seen = (
                    ((seen << shift) | (1 << (shift - 1))) & _ALL_SEEN if shift <= SEQ_WINDOW else 0
                )
                top = seq
            elif seq == top:
                return SeqVerdict.DUPLICATE
            else:
                age = top - seq  # 1..: bit (age - 1) of `seen`
                if age > SEQ_WINDOW:
                    return SeqVerdict.TOO_OLD
                if seen & (1 << (age - 1)):
                    return SeqVerdict.DUPLICATE
                seen |= 1 << (age - 1)
            self._db.execute(
                "INSERT INTO seq (kid, seq, seen) VALUES (?, ?, ?) "
                "ON CONFLICT(kid) DO UPDATE SET seq = excluded.seq, seen = excluded.seen",
                (kid, top, seen),
            )
            self._seq[kid] = (top, seen)
            return SeqVerdict.NEW

    def seq_is_new(self, kid: str, seq: int) -> bool:
        """True if `seq` is above every seq accepted from `kid`: a command signed after all the
        others, whose `issued_at` may teach the device the server's time (no replay can)."""
        with self._lock:
            state = self._seq.get(kid)
            if state is None:
                row = self._db.execute("SELECT seq, seen FROM seq WHERE kid = ?", (kid,)).fetchone()
                state = (row[0], row[1]) if row else (-1, 0)
                self._seq[kid] = state
            return seq > state[0]

    def last_seq(self, kid: str) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT seq FROM seq WHERE kid = ?", (kid,)).fetchone()
            return row[0] if row else None

    # -- key/value -----------------------------------------------------------------------
    def get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return row[0] if row else default

    def put(self, key: str, value: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- as-run journal ------------------------------------------------------------------
    def asrun_open(
        self, *, item_id: str, kind: str, scheduled_start: str | None, started_at: str
    ) -> AsRun:
        """Write an entry when playback starts, so a crash mid-item still leaves a trace."""
        entry = AsRun(str(uuid.uuid4()), item_id, kind, scheduled_start, started_at)
        with self._lock:
            self._db.execute(
                f"INSERT INTO asrun ({', '.join(ASRUN_FIELDS)}) VALUES ({', '.join('?' * 9)})",  # noqa: S608
                tuple(getattr(entry, f) for f in ASRUN_FIELDS),
            )
        return entry

    def asrun_close(
        self,
        entry: AsRun,
        *,
        ended_at: str,
        status: str,
        cut_by: str | None = None,
        reason: str | None = None,
    ) -> AsRun:
        entry.ended_at, entry.status, entry.cut_by, entry.reason = ended_at, status, cut_by, reason
        with self._lock:
            self._db.execute(
                "UPDATE asrun SET ended_at = ?, status = ?, cut_by = ?, reason = ? WHERE id = ?",
                (ended_at, status, cut_by, reason, entry.id),
            )
        return entry

    def asrun_record(self, **fields: Any) -> AsRun:
        """Write a finished entry at once (e.g. an item that failed to play)."""
        entry = self.asrun_open(
            item_id=fields["item_id"],
            kind=fields["kind"],
            scheduled_start=fields.get("scheduled_start"),
            started_at=fields["started_at"],
        )
        return self.asrun_close(
            entry,
            ended_at=fields["ended_at"],
            status=fields["status"],
            cut_by=fields.get("cut_by"),
            reason=fields.get("reason"),
        )

    def asrun_close_dangling(self, ended_at: str) -> int:
        """Entries still 'playing' were interrupted by a crash or power cut: close them as cut."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE asrun SET ended_at = ?, status = 'cut', cut_by = 'restart' "
                "WHERE status = 'playing'",
                (ended_at,),
            )
            return cur.rowcount

    def asrun_pending(self, limit: int = 200) -> list[dict[str, Any]]:
        """Finished entries the server has not acknowledged yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(ASRUN_FIELDS)} FROM asrun "  # noqa: S608 - constant columns
                "WHERE acked = 0 AND status != 'playing' ORDER BY started_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [_wire(dict(zip(ASRUN_FIELDS, row, strict=True))) for row in rows]

    def asrun_ack(self, ids: list[str]) -> int:
        with self._lock:
            cur = self._db.executemany(
                "UPDATE asrun SET acked = 1 WHERE id = ?", [(str(i),) for i in ids]
            )
            return cur.rowcount

    def asrun_all(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(ASRUN_FIELDS)}, acked FROM asrun ORDER BY started_at"  # noqa: S608
            ).fetchall()
        return [_wire(dict(zip((*ASRUN_FIELDS, "acked"), row, strict=True))) for row in rows]

    def priority_jobs(self, since: str) -> set[str]:
        """Ids of priority (play.now) jobs that started, or failed, since `since`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT item_id FROM asrun WHERE kind = 'priority' AND started_at >= ?",
                (since,),
            ).fetchall()
        return {r[0] for r in rows}

    def played_keys(self, since: str) -> set[tuple[str, str]]:
        """(item id, scheduled start) of schedule items already played to the end."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, scheduled_start FROM asrun WHERE status IN ('played', 'failed') "
                "AND scheduled_start IS NOT NULL AND scheduled_start >= ?",
                (since,),
            ).fetchall()
        return {(r[0], r[1]) for r in rows}

    # -- cache index ---------------------------------------------------------------------
    def cache_add(self, sha: str, size: int, when: float) -> None:
        with self._lock:
            self._cache_totals = None
            self._db.execute(
                "INSERT INTO cache (sha256, size, last_used) VALUES (?, ?, ?) "
                "ON CONFLICT(sha256) DO UPDATE SET size = excluded.size, "
                "last_used = excluded.last_used",
                (sha, size, when),
            )

    def cache_touch(self, sha: str, when: float) -> None:
        with self._lock:
            self._db.execute("UPDATE cache SET last_used = ? WHERE sha256 = ?", (when, sha))

    def cache_remove(self, sha: str) -> None:
        with self._lock:
            self._cache_totals = None
            self._db.execute("DELETE FROM cache WHERE sha256 = ?", (sha,))

    def cache_entries(self) -> list[tuple[str, int, float]]:
        """(sha256, size, last_used), least recently used first."""
        with self._lock:
            return self._db.execute(
                "SELECT sha256, size, last_used FROM cache ORDER BY last_used, sha256"
            ).fetchall()

    def cache_used(self) -> tuple[int, int]:
        """(bytes, files) in the cache; kept in memory between changes (every state report
        asks, and a query per report was an eighth of a simulated fleet's CPU)."""
        with self._lock:
            if self._cache_totals is None:
                row = self._db.execute(
                    "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM cache"
                ).fetchone()
                self._cache_totals = (int(row[0]), int(row[1]))
            return self._cache_totals
