"""Media cache: resumable downloads, hash checks, LRU eviction under the limit."""

from __future__ import annotations

import os

import pytest

from grassroots_agent.cache import CacheFull, HashMismatch, HttpClient, MediaCache, MediaRef
from grassroots_agent.store import Store


@pytest.fixture
def cache_factory(tmp_path, server):
    stores = []

    def make(limit=10_000_000):
        store = Store(tmp_path / "state.db")
        stores.append(store)
        return MediaCache(tmp_path / "media", store, HttpClient(server.url, "tok", 2.0), limit)

    yield make
    for s in stores:
        s.close()


def test_download_resumes_after_cut_connection(cache_factory, server):
    data = os.urandom(200_000)
    ref = MediaRef.from_dict(server.add_media("a.opus", data))
    server.cut_after["/media/a.opus"] = 70_000
    cache = cache_factory()
    path = cache.fetch(ref)
    assert path.read_bytes() == data
    hits = server.hits("/media/a.opus")
    assert len(hits) == 2
    assert "Range" not in hits[0][2]
    assert hits[1][2]["Range"] == "bytes=70000-"
    assert cache.usage() == {"used": len(data), "limit": 10_000_000, "files": 1}
    # cached now: no further request
    cache.fetch(ref)
    assert len(server.hits("/media/a.opus")) == 2


def test_partial_download_survives_a_restart(cache_factory, server, tmp_path):
    data = os.urandom(50_000)
    ref = MediaRef.from_dict(server.add_media("b.opus", data))
    server.cut_after["/media/b.opus"] = 20_000
    cache = cache_factory()
    with pytest.raises(Exception, match="failed"):
        cache.fetch(ref, attempts=1)
    assert (tmp_path / "media" / f"{ref.sha256}.part").stat().st_size == 20_000
    cache2 = cache_factory()
    assert cache2.fetch(ref).read_bytes() == data
    assert server.hits("/media/b.opus")[-1][2]["Range"] == "bytes=20000-"


def test_hash_mismatch_is_refused(cache_factory, server, tmp_path):
    good = server.add_media("c.opus", b"x" * 5000)
    server.media["/media/c.opus"] = b"y" * 5000  # the file changed under the signed hash
    cache = cache_factory()
    ref = MediaRef.from_dict(good)
    with pytest.raises(HashMismatch):
        cache.fetch(ref)
    assert not cache.has(ref.sha256)
    assert list((tmp_path / "media").iterdir()) == []
    assert cache.usage()["files"] == 0


def test_lru_eviction_keeps_cache_under_limit(cache_factory, server):
    refs = {n: MediaRef.from_dict(server.add_media(n, os.urandom(1000))) for n in "abcd"}
    cache = cache_factory(limit=2500)
    cache.fetch(refs["a"])
    cache.fetch(refs["b"])
    cache.fetch(refs["a"])  # a is now more recently used than b
    cache.fetch(refs["c"])
    assert cache.has(refs["a"].sha256) and cache.has(refs["c"].sha256)
    assert not cache.has(refs["b"].sha256)
    assert cache.usage()["used"] <= 2500
    # pinned files (needed by the schedule) are never evicted
    with pytest.raises(CacheFull):
        cache.fetch(refs["d"], pinned={refs["a"].sha256, refs["c"].sha256})
    assert cache.usage()["used"] <= 2500
    cache.fetch(refs["d"], pinned={refs["c"].sha256})
    assert not cache.has(refs["a"].sha256)
    assert cache.usage() == {"used": 2000, "limit": 2500, "files": 2}


def test_unknown_size_is_verified_by_hash_and_accounted(cache_factory, server):
    data = os.urandom(30_000)
    raw = server.add_media("u.opus", data)
    raw["size"] = 0  # the server's manifest may not know the size
    server.cut_after["/media/u.opus"] = 10_000
    cache = cache_factory()
    assert cache.fetch(MediaRef.from_dict(raw)).read_bytes() == data
    assert server.hits("/media/u.opus")[-1][2]["Range"] == "bytes=10000-"
    assert cache.usage()["used"] == 30_000


def test_a_local_file_is_added_by_its_hash_and_survives_a_restart(cache_factory, tmp_path):
    import hashlib

    data = os.urandom(30_000)
    source = tmp_path / "canh-bao-lu.opus"
    source.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    cache = cache_factory()
    assert cache.add_file(source) == sha
    assert cache.has(sha) and cache.path(sha).read_bytes() == data
    assert cache.usage()["files"] == 1
    assert cache.add_file(source, sha256=sha) == sha  # again: nothing new
    with pytest.raises(HashMismatch):
        cache.add_file(source, sha256="0" * 64)
    # the index agrees after a restart, so the file is not reconciled away
    assert cache_factory().has(sha)
