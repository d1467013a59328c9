"""The checked-in JSON Schemas (docs/schemas/) must match the code."""

import json

import pytest

from streams.cli.topics_cmd import rendered_schemas
from streams.contracts import CONTRACTS


def test_checked_in_schemas_match_the_code(project_root):
    directory = project_root / "docs" / "schemas"
    stale = [name for name, text in rendered_schemas().items()
             if not (directory / name).is_file() or (directory / name).read_text() != text]
    assert not stale, f"run `streamrec schemas export`: out of date {stale}"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schemas_declare_version_id_key_and_required_fields(name):
    schema = json.loads(rendered_schemas()[f"{name}.json"])
    assert schema["properties"]["schema_version"]["const"] == 1
    assert "timestamp" in schema["properties"]
    assert schema["x-kafka-key"] in schema["properties"]
    assert schema["additionalProperties"] is False
