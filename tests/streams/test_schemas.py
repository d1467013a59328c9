"""The checked-in JSON Schemas (docs/schemas/) must match the code."""

import json

import pytest

from streams.cli.schemas import rendered_schemas
from streams.core.contracts import CONTRACTS


def test_checked_in_schemas_match_the_code(project_root):
    directory = project_root / "docs" / "schemas"
    stale = [
        name
        for name, text in rendered_schemas().items()
        if not (directory / name).is_file() or (directory / name).read_text() != text
    ]
    assert not stale, f"run `streamrec schemas export`: out of date {stale}"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schemas_declare_version_id_key_and_required_fields(name):
    schema = json.loads(rendered_schemas()[f"{name}.json"])
    assert schema["properties"]["schema_version"]["const"] == 1
    assert "timestamp" in schema["properties"]
    assert schema["x-kafka-key"] in schema["properties"]
    assert schema["additionalProperties"] is False


def test_every_setting_is_documented(project_root):
    from streams.core.settings import Settings

    doc = (project_root / "docs" / "configuration.md").read_text()
    missing = [
        name
        for name in Settings.model_fields
        if f"STREAMREC_{name.upper()}" not in doc
        and not (name.startswith("kafka_sasl_") and f"_{name.upper().removeprefix('KAFKA_SASL_')}`" in doc)
    ]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_every_http_path_is_in_the_api_reference(project_root):
    doc = (project_root / "docs" / "api.md").read_text()
    paths = json.loads(rendered_schemas()["openapi.json"])["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, ops in paths.items()
        for method in ops
        if f"`{method.upper()} {path}" not in doc
    ]
    assert not missing, f"endpoints missing from docs/api.md: {missing}"
