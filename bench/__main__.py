"""`make bench`: run every benchmark in bench/, print a table, write bench/results/<name>.json.

`python -m bench [name ...]` runs only the named ones.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.config.settings")
    os.environ.setdefault("GRASSROOTS_HOME", str(HERE.parent / "var" / "bench"))
    import django

    django.setup()


def _flat(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif not isinstance(value, list):
        out[prefix] = value


def main(argv: list[str]) -> int:
    _setup_django()
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_")
    )
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "run"):
            continue
        print(f"\n== {name} ==", flush=True)
        start = time.perf_counter()
        try:
            metrics = module.run()
        except Exception:
            traceback.print_exc()
            failed += 1
            continue
        elapsed = time.perf_counter() - start
        doc = {
            "benchmark": name,
            "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "elapsed_s": round(elapsed, 2),
            "metrics": metrics,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False))
        flat: dict = {}
        _flat("", metrics, flat)
        width = max((len(k) for k in flat), default=10)
        for key, value in flat.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            print(f"  {key:<{width}}  {shown}")
        print(f"  ({elapsed:.1f} s; results in bench/results/{name}.json)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
