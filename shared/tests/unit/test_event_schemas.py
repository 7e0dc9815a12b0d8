from shared.schemas import SCHEMA_DIR, rendered


def test_exported_json_schemas_match_the_pydantic_contracts() -> None:
    for name, text in rendered().items():
        path = SCHEMA_DIR / name
        assert path.exists(), f"{path} is missing: run `python -m shared.schemas`"
        assert path.read_text() == text, f"{path} is out of date: run `python -m shared.schemas`"


def test_the_contact_schema_requires_author_agency_and_impact() -> None:
    import json

    schema = json.loads(rendered()["contact.recorded.v1.json"])
    contact = schema["$defs"]["ContactRecorded"]
    assert {"agency", "author", "child", "impact", "summary", "contact_type"} <= set(contact["required"])
