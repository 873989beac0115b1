"""Content-addressed storage under MEDIA_ROOT/assets/ab/cd/<sha256>.<ext>, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def relative_path(sha256: str, ext: str) -> str:
    """Where a blob with this hash lives, relative to MEDIA_ROOT."""
    return f"assets/{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"


class Transaction:
    """Puts files into the store; on rollback removes the ones it created, and nothing else.

    Each file is copied next to its destination under a temporary name, flushed to disk and
    renamed into place, so a reader never sees half a file. Blobs already present (same hash)
    are left untouched, which makes ingesting the same upload twice cheap and idempotent.
    """

    def __init__(self) -> None:
        self.root = Path(settings.MEDIA_ROOT)
        self.created: list[Path] = []
        self.created_dirs: list[Path] = []

    def put(self, src: Path, sha256: str, ext: str) -> str:
        rel = relative_path(sha256, ext)
        dest = self.root / rel
        if dest.exists() and dest.stat().st_size == src.stat().st_size:
            return rel
        self._makedirs(dest.parent)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
                shutil.copyfileobj(inp, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.created.append(dest)
        return rel

    def _makedirs(self, directory: Path) -> None:
        missing = []
        probe = directory
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        directory.mkdir(parents=True, exist_ok=True)
        self.created_dirs.extend(missing)  # deepest first

    def rollback(self) -> None:
        for path in self.created:
            with contextlib.suppress(OSError):
                path.unlink()
        for directory in self.created_dirs:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if empty: another upload may have used it meanwhile
        self.created.clear()
        self.created_dirs.clear()


def absolute(rel: str) -> Path:
    """The absolute path of a stored blob."""
    return Path(settings.MEDIA_ROOT) / rel
