"""Every event type's JSON Schema, exported to `docs/schemas/` for agencies and other consumers.

`python -m shared.schemas` rewrites the files; a unit test fails when they are out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from shared.contracts import accounts, audit, forum
from shared.contracts.chronology import SIGNIFICANCE_MARKED, SignificanceMarked
from shared.contracts.contacts import CONTACT_RECORDED, ContactRecorded
from shared.contracts.identity import CONTACT_IDENTIFIED, ContactIdentified
from shared.events import Envelope

# (event type, version) → the envelope model with its data
EVENT_SCHEMAS: dict[tuple[str, int], type[BaseModel]] = {
    (CONTACT_RECORDED, 1): Envelope[ContactRecorded],
    (SIGNIFICANCE_MARKED, 1): Envelope[SignificanceMarked],
    (CONTACT_IDENTIFIED, 1): Envelope[ContactIdentified],
    **accounts.EVENT_SCHEMAS,
    **audit.EVENT_SCHEMAS,
    **forum.EVENT_SCHEMAS,
}

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "docs" / "schemas"


def rendered() -> dict[str, str]:
    """File name → JSON text of each schema."""
    out = {}
    for (event_type, version), model in EVENT_SCHEMAS.items():
        schema = model.model_json_schema()
        schema["title"] = f"{event_type} v{version}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[f"{event_type}.v{version}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in export(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(path)
