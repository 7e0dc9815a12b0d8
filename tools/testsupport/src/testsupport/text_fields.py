"""Every free-text string a JSON Schema admits, however deep, for the tests of rule 12 (issue 9: control
characters are refused at every boundary, with the field named).

Both boundaries are walked from their own documents: an HTTP route's from the service's OpenAPI document, an
event's from its contract's JSON Schema, so a text field added without `Line` or `Prose` (shared.text) is
probed without anyone listing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

Loc = tuple[str | int, ...]  # where a value sits: names, and an index for an array's item

# NUL (which FerretDB cannot store), BEL and ESC (which hide or restyle text in a terminal or an export), DEL
# and a C1 control: none is allowed in a `Line`, nor in `Prose`.
CONTROLS = ("\x00", "\x07", "\x1b", "\x7f", "\x85")


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` itself, or what its `$ref` points at in `document` (`#/components/schemas/X`, `#/$defs/X`)."""
    while "$ref" in schema:
        target: Any = document
        for step in schema["$ref"].removeprefix("#/").split("/"):
            target = target[step]
        schema = target
    return schema


def options(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas a value may match: `schema`, or every member of its `anyOf`/`oneOf`/`allOf`, resolved."""
    schema = resolve(document, schema)
    union = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    if not union:
        return [schema]
    return [o for s in union for o in options(document, s)]


def is_string(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    return any(o.get("type") == "string" for o in options(document, schema))


def is_free_text(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A string a person or a system chooses: not an enum, a date, or a constant."""
    return any(
        o.get("type") == "string" and "enum" not in o and "const" not in o and "format" not in o
        for o in options(document, schema)
    )


def texts_in(
    document: dict[str, Any], schema: dict[str, Any], loc: Loc, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every free-text string inside `schema` (at `loc`), with its own schema: through `$ref`, unions,
    `properties`, `items` (index 0) and `additionalProperties` (key "key")."""
    if "$ref" in schema:
        if schema["$ref"] in seen:  # a model that contains itself: once round is enough
            return
        seen = seen | {schema["$ref"]}
    if is_free_text(document, schema):
        yield loc, schema
    for option in options(document, schema):
        for name, inner in option.get("properties", {}).items():
            yield from texts_in(document, inner, (*loc, name), seen)
        if isinstance(option.get("items"), dict):
            yield from texts_in(document, option["items"], (*loc, 0), seen)
        if isinstance(option.get("additionalProperties"), dict):
            yield from texts_in(document, option["additionalProperties"], (*loc, "key"), seen)


def poisoned(document: dict[str, Any], schema: dict[str, Any], control: str) -> str:
    """`control` in words long enough for the field's minimum length, so that the control character is what
    is refused."""
    shortest = max([o.get("minLength", 0) for o in options(document, schema)])
    value = f"a{control}b"
    while len(value) < shortest:
        value += " more words"
    return value


def nested(loc: Loc, value: Any) -> Any:
    """The smallest JSON that puts `value` at `loc`."""
    for step in reversed(loc):
        value = [value] if isinstance(step, int) else {step: value}
    return value


def names(problem_loc: Sequence[str | int], loc: Loc) -> bool:
    """A problem at `problem_loc` is about the place `loc`: it starts where `loc` does and holds every step
    of `loc` in order (a union adds its member's name: `("data", "JoinRequested", "reason")`)."""
    steps = iter(problem_loc)
    return (
        bool(loc)
        and list(problem_loc[:1]) == list(loc[:1])
        and all(any(s == step for s in steps) for step in loc)
    )


def refused(control: str, message: str) -> bool:
    """The message says which control character was refused (shared.text's wording)."""
    return f"control character U+{ord(control):04X}" in message
