"""JSON Schemas of the protocol, generated from the models (published in `docs/protocol/`).

`python -m grassroots_protocol.schema DIR` writes one `<name>.schema.json` per message; a test
checks that the published files equal what the models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from grassroots_protocol import messages as m

MESSAGES: dict[str, Any] = {
    "envelope": m.Envelope,
    "command": m.Command,
    "manifest": m.Manifest,
    "board-manifest": m.BoardManifest,
    "state": m.State,
    "event": m.Event,
    "asrun-entry": m.AsRunEntry,
    "asrun-upload": m.AsRunUpload,
    "asrun-upload-answer": m.AsRunUploadAnswer,
    "enrolment-answer": m.EnrolmentAnswer,
    "device-live-request": m.DeviceLiveRequest,
    "device-live-answer": m.DeviceLiveAnswer,
    "display-proof": m.DisplayProof,
    "display-proof-upload": m.DisplayProofUpload,
}


def schemas() -> dict[str, dict]:
    """{name: JSON Schema (draft 2020-12)} of every message, for validation by any language."""
    out = {}
    for name, model in MESSAGES.items():
        schema = TypeAdapter(model).json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"grassroots/v{m.PROTOCOL_VERSION}/{name}.schema.json",
            "title": schema.get("title", name),
            **{k: v for k, v in schema.items() if k != "title"},
        }
        out[name] = schema
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(directory: Path, found: dict[str, dict] | None = None) -> list[Path]:
    """Write each schema (`found`, or this protocol's) to `directory/<name>.schema.json`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in (schemas() if found is None else found).items():
        path = directory / f"{name}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a developer's command
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/protocol")):
        print(path)
