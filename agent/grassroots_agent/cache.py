"""Media cache: resumable HTTP downloads (Range), SHA-256 checks, LRU eviction under a limit."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from grassroots_agent.store import Store

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class CacheError(Exception):
    """A media file could not be put into the cache."""

    code = "media.error"


class HashMismatch(CacheError):
    """The downloaded bytes do not match the SHA-256 (or size) the signed manifest promised."""

    code = "media.hash_mismatch"


class CacheFull(CacheError):
    """The file does not fit under the cache limit even after evicting everything evictable."""

    code = "media.cache_full"


@dataclass(frozen=True)
class MediaRef:
    """A media file as the signed manifest or command names it."""

    url: str
    sha256: str
    size: int
    duration: float | None = None

    @classmethod
    def from_wire(cls, ref) -> MediaRef:
        """From a `grassroots_protocol.MediaRef` (already validated)."""
        return cls(url=ref.url, sha256=ref.sha256, size=ref.size, duration=ref.duration)

    @classmethod
    def from_dict(cls, data: dict) -> MediaRef:
        """From the wire form, checked by the protocol's definition (grassroots_protocol)."""
        from grassroots_protocol import MediaRef as WireMediaRef

        return cls.from_wire(WireMediaRef.model_validate(data))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HttpClient:
    """urllib with the device's bearer token on requests to its own server.

    Every answer from the server (errors included) passes its `Date` header to `on_date(date,
    sent, received)`, with the local times around the request: how the device learns the
    server's time (clock.ServerClock)."""

    def __init__(
        self,
        base_url: str | None,
        token: str | None,
        timeout: float = 20.0,
        *,
        on_date=None,
        local_now=None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.token = token
        self.timeout = timeout
        self.on_date = on_date
        self.local_now = local_now

    def url(self, url: str) -> str:
        return urljoin(self.base_url, url) if self.base_url else url

    def request(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> urllib.request.Request:
        full = self.url(url)
        if not full.startswith(("http://", "https://")):
            raise CacheError(f"refusing non-HTTP URL {full!r}")
        req = urllib.request.Request(full, method=method, data=data, headers=headers or {})  # noqa: S310
        if self.token and self.base_url and full.startswith(self.base_url):
            req.add_header("Authorization", f"Bearer {self.token}")
        return req

    def open(self, req: urllib.request.Request):
        own = self.on_date is not None and self.base_url and req.full_url.startswith(self.base_url)
        sent = self.local_now() if own else None
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310 (scheme checked)
        except urllib.error.HTTPError as exc:
            if own:
                self.on_date(exc.headers.get("Date"), sent, self.local_now())
            raise
        if own:
            self.on_date(resp.headers.get("Date"), sent, self.local_now())
        return resp


class MediaCache:
    """Files named by their SHA-256 under `root`; the index (size, last use) lives in the Store."""

    def __init__(self, root: Path, store: Store, http: HttpClient, limit: int) -> None:
        self.root = root
        self.store = store
        self.http = http
        self.limit = limit
        self.root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._reconcile()

    def _reconcile(self) -> None:
        """Drop index rows whose file vanished and files the index does not know."""
        known = {sha for sha, _, _ in self.store.cache_entries()}
        for sha in known:
            if not (self.root / sha).is_file():
                self.store.cache_remove(sha)
        for path in self.root.iterdir():
            if not path.name.endswith(".part") and path.name not in known:
                path.unlink(missing_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / sha

    def has(self, sha: str) -> bool:
        return (self.root / sha).is_file()

    def touch(self, sha: str) -> None:
        self.store.cache_touch(sha, time.time())

    def usage(self) -> dict[str, int]:
        used, files = self.store.cache_used()
        return {"used": used, "limit": self.limit, "files": files}

    def _lock_for(self, sha: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sha, threading.Lock())

    def make_room(self, size: int, pinned: set[str]) -> list[str]:
        """Evict least recently used files (never pinned ones) until `size` more bytes fit."""
        if size > self.limit:
            raise CacheFull(f"{size} bytes exceed the cache limit {self.limit}")
        used, _ = self.store.cache_used()
        evicted = []
        for sha, fsize, _ in self.store.cache_entries():
            if used + size <= self.limit:
                break
            if sha in pinned:
                continue
            (self.root / sha).unlink(missing_ok=True)
            self.store.cache_remove(sha)
            used -= fsize
            evicted.append(sha)
        if used + size > self.limit:
            raise CacheFull(f"need {size} bytes, {self.limit - used} free after eviction")
        if evicted:
            log.info("cache: evicted %d file(s) to make room for %d bytes", len(evicted), size)
        return evicted

    def add_file(self, source: Path, sha256: str | None = None) -> str:
        """Copy a local file into the cache (media carried to a controller, the simulator's
        preloaded fleet); returns its SHA-256. With `sha256`, the content must match it."""
        sha = file_sha256(source)
        if sha256 is not None and sha != sha256:
            raise HashMismatch(f"{source}: expected sha256 {sha256}, got {sha}")
        with self._lock_for(sha):
            final = self.root / sha
            if not final.is_file():
                size = source.stat().st_size
                self.make_room(size, {sha})
                part = self.root / f"{sha}.part"
                shutil.copyfile(source, part)
                os.replace(part, final)
            self.store.cache_add(sha, final.stat().st_size, time.time())
        return sha

    def fetch(self, ref: MediaRef, *, pinned: set[str] | None = None, attempts: int = 3) -> Path:
        """Return the cached file, downloading (and resuming) it if needed."""
        with self._lock_for(ref.sha256):
            final = self.root / ref.sha256
            if final.is_file():
                self.touch(ref.sha256)
                return final
            self.make_room(max(ref.size, 0), (pinned or set()) | {ref.sha256})
            delay = 0.2
            for attempt in range(1, attempts + 1):
                try:
                    self._download(ref)
                    break
                except (HashMismatch, CacheFull):
                    raise
                except Exception as exc:  # OSError, URLError, IncompleteRead...
                    if attempt == attempts:
                        raise CacheError(f"download of {ref.url} failed: {exc}") from exc
                    log.info("download %s interrupted (%s), resuming", ref.url, exc)
                time.sleep(delay)
                delay *= 2
            size = final.stat().st_size
            if size > ref.size:  # size was unknown (0) in the manifest: account the real one
                try:
                    self.make_room(size - max(ref.size, 0), (pinned or set()) | {ref.sha256})
                except CacheFull:
                    final.unlink(missing_ok=True)
                    raise
            self.store.cache_add(ref.sha256, size, time.time())
            return final

    def _download(self, ref: MediaRef) -> None:
        part = self.root / f"{ref.sha256}.part"
        known = ref.size > 0  # 0 means the manifest did not say; the hash still decides
        limit = ref.size if known else self.limit
        have = part.stat().st_size if part.exists() else 0
        resp = None
        if have > limit:
            part.unlink()
            have = 0
        headers = {"Range": f"bytes={have}-"} if have > 0 and (have < ref.size or not known) else {}
        if have < ref.size or not known:
            req = self.http.request(ref.url, headers=headers)
            try:
                resp = self.http.open(req)
            except urllib.error.HTTPError as exc:
                if exc.code != 416 or not headers:
                    raise
                resp = None  # the partial file is already complete: verify it below
        if resp is not None:
            with resp:
                if resp.status == 206:
                    crange = resp.headers.get("Content-Range", "")
                    if not crange.startswith(f"bytes {have}-"):
                        raise CacheError(f"unexpected Content-Range {crange!r}")
                    mode = "ab"
                else:
                    mode, have = "wb", 0
                length = resp.headers.get("Content-Length")
                expected = have + int(length) if length and length.isdigit() else None
                with part.open(mode) as fh:
                    while True:
                        chunk = resp.read(CHUNK)
                        if not chunk:
                            break
                        have += len(chunk)
                        if have > limit:
                            break
                        fh.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                if expected is not None and have < expected:
                    # http.client returns a short body on a cut connection: keep it, resume
                    raise ConnectionError(f"connection cut after {have} of {expected} bytes")
        size = part.stat().st_size
        if known and size < ref.size and have <= ref.size:
            raise ConnectionError(f"short read: {size} of {ref.size} bytes")
        if (known and size != ref.size) or have > limit or file_sha256(part) != ref.sha256:
            part.unlink(missing_ok=True)
            raise HashMismatch(f"{ref.url}: expected sha256 {ref.sha256} and {ref.size} bytes")
        os.replace(part, self.root / ref.sha256)
