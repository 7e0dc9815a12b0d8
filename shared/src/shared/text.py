"""Text that crosses a boundary (HTTP or Kafka) carries no control characters (BRIEF §3, rule 12).

A NUL cannot be stored by FerretDB (PostgreSQL text refuses it), so it used to surface as a 500 or as an
obscure database error in a dead letter; the other control characters hide text from the people who read
it, or break the exports. They are refused where the input arrives, by pydantic, so the answer names the
field (a 422's `loc`, a dead letter's reason).

- `Line`: one line (names, roles, ids, postcodes): no control character at all.
- `Prose`: free text (summaries, reasons): tab, newline and carriage return are allowed, nothing else.

Text that is also stripped takes the check after its constraints, `Annotated[str, StringConstraints(
strip_whitespace=True, min_length=3), PROSE_CHECK]`: pydantic applies constraints that come after a validator
(`Annotated[Prose, StringConstraints(...)]`) out of order, counting the length before it strips, so that
"   " would pass `min_length=3` as "".

"Control character" here is Unicode's Cc category: C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_PROSE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character_problem(value: str, *, prose: bool = False) -> str | None:
    """Why `value` may not be stored, or None: names the first control character and where it is."""
    found = (_CONTROL_IN_PROSE if prose else _CONTROL).search(value)
    if found is None:
        return None
    allowed = "; only tab, newline and carriage return are allowed here" if prose else ""
    return f"contains the control character U+{ord(found.group()):04X} at position {found.start()}{allowed}"


def _line(value: str) -> str:
    problem = control_character_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _prose(value: str) -> str:
    problem = control_character_problem(value, prose=True)
    if problem:
        raise ValueError(problem)
    return value


LINE_CHECK = AfterValidator(_line)
PROSE_CHECK = AfterValidator(_prose)
Line = Annotated[str, LINE_CHECK]
Prose = Annotated[str, PROSE_CHECK]
