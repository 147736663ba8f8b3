"""The services' Blueprint: argument schemas built once, and still checked on every request."""

from __future__ import annotations

import ast
from pathlib import Path

import marshmallow as ma
import pytest
from flask import jsonify

from shared.config import load_settings
from shared.web.app_factory import create_service_app
from shared.web.blueprint import Blueprint

ROOT = Path(__file__).resolve().parents[2]


class Counted(ma.Schema):
    built = 0
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=100))

    def __init__(self, *args, **kwargs):
        type(self).built += 1
        super().__init__(*args, **kwargs)


@pytest.fixture
def client(tmp_path):
    Counted.built = 0
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("", methods=["GET"])
    @blp.arguments(Counted, location="query", unknown=ma.RAISE)
    def things(query):
        return jsonify(limit=query["limit"])

    settings = load_settings("record", {"RELAIS_VAR_DIR": str(tmp_path), "RELAIS_LOG_LEVEL": "WARNING"})
    return create_service_app(settings, title="t", blueprints=[blp]).test_client()


def test_the_schema_is_built_once_and_checks_every_request(client):
    built = Counted.built
    assert [client.get("/things", query_string={"limit": n}).get_json()["limit"] for n in (1, 2, 3)] == [1, 2, 3]
    assert client.get("/things").get_json()["limit"] == 10
    assert Counted.built == built == 1
    for bad in ({"limit": 0}, {"limit": "many"}, {"other": 1}):
        answer = client.get("/things", query_string=bad)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
        assert Counted.built == 1


def test_every_service_api_uses_it():
    """flask-smorest's own Blueprint would build the schemas again for every request."""
    offenders = []
    for path in (ROOT / "services").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_smorest":
                if any(alias.name == "Blueprint" for alias in node.names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
