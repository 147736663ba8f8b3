"""The door (shared/web/door.py): the endpoints it is given answered before Flask's request
cycle with what the app factory's hooks give every answer; everything else left to Flask."""

from __future__ import annotations

import json
import logging
import uuid

import marshmallow as ma
import pytest
from flask import jsonify

from shared.config import load_settings
from shared.web.app_factory import create_service_app
from shared.web.blueprint import Blueprint
from shared.web.door import Door, install_door, parse_query
from shared.web.problems import Problem


class Paging(ma.Schema):
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=100))
    tag = ma.fields.List(ma.fields.String(), load_default=list)


@pytest.fixture
def app(tmp_path):
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("/<uuid:thing_id>", methods=["GET", "POST"])
    @blp.arguments(Paging, location="query", unknown=ma.RAISE)
    def thing(query, thing_id):
        return jsonify(by="flask", thing=str(thing_id), **query)

    @blp.route("/other", methods=["GET"])
    def other():
        return jsonify(by="flask")

    settings = load_settings("record", {"RELAIS_VAR_DIR": str(tmp_path), "RELAIS_LOG_LEVEL": "INFO"})
    app = create_service_app(settings, title="t", blueprints=[blp])
    schema = Paging()
    calls = []

    def thing_door(call):
        calls.append(call)
        query = parse_query(schema, call.query)
        if query["limit"] == 13:
            raise Problem("Thirteen is not served.", status=409, slug="unlucky", title="Unlucky")
        if query["limit"] == 66:
            raise RuntimeError("boom")
        body = json.dumps({"by": "door", "thing": str(call.args["thing_id"]), **query}).encode()
        return 200, {"Content-Type": "application/json", "Vary": "Accept-Language"}, body

    install_door(app, {"things.thing": thing_door})
    app.door_calls = calls
    return app


def test_the_door_answers_its_endpoint_with_the_routes_converters(app):
    thing = uuid.uuid4()
    answer = app.test_client().get(f"/things/{thing}?limit=3&tag=a&tag=b")
    assert answer.status_code == 200
    assert answer.get_json() == {"by": "door", "thing": str(thing), "limit": 3, "tag": ["a", "b"]}
    assert app.door_calls[0].args == {"thing_id": thing}
    assert answer.headers["Content-Length"] == str(len(answer.get_data()))
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Vary"] == "Accept-Language"


def test_the_callers_request_id_is_kept_and_a_bad_one_replaced(app):
    client = app.test_client()
    kept = client.get(f"/things/{uuid.uuid4()}", headers={"X-Request-ID": "req-12345678"})
    assert kept.headers["X-Request-ID"] == "req-12345678"
    assert app.door_calls[-1].request_id == "req-12345678"
    fresh = client.get(f"/things/{uuid.uuid4()}", headers={"X-Request-ID": "bad id!"})
    assert uuid.UUID(fresh.headers["X-Request-ID"])


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=many", "limit"), ("colour=red", "colour")])
def test_a_bad_query_is_the_422_the_view_would_give(app, query, field):
    thing = uuid.uuid4()
    client = app.test_client()
    through_door = client.get(f"/things/{thing}?{query}", headers={"X-Request-ID": "req-12345678"})
    # The same request straight to Flask, whose view parses the same schema with webargs.
    flask_only = app.wsgi_app.next_app
    app.wsgi_app = flask_only
    through_flask = client.get(f"/things/{thing}?{query}", headers={"X-Request-ID": "req-12345678"})
    assert through_door.status_code == through_flask.status_code == 422
    assert through_door.mimetype == through_flask.mimetype == "application/problem+json"
    assert through_door.get_json() == through_flask.get_json()
    assert field in {e["field"] for e in through_door.get_json()["errors"]}


def test_a_problem_is_problem_json_and_an_error_a_logged_bare_500(app, caplog):
    client = app.test_client()
    refused = client.get(f"/things/{uuid.uuid4()}?limit=13", headers={"X-Request-ID": "req-12345678"})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["detail"] == "Thirteen is not served."
    assert refused.get_json()["request_id"] == "req-12345678"
    with caplog.at_level(logging.ERROR):
        failed = client.get(f"/things/{uuid.uuid4()}?limit=66")
    assert failed.status_code == 500 and failed.mimetype == "application/problem+json"
    assert "boom" not in failed.get_data(as_text=True)
    assert "unhandled error" in caplog.text


def test_what_the_door_does_not_take_goes_to_flask(app):
    client = app.test_client()
    thing = uuid.uuid4()
    assert client.post(f"/things/{thing}", json={}).get_json()["by"] == "flask"
    assert client.get("/things/other").get_json()["by"] == "flask"
    assert client.get(f"/things/{thing}", data=b"{}", content_type="application/json").get_json()["by"] == "flask"
    head = client.head(f"/things/{thing}")
    assert head.status_code == 200 and head.get_data() == b""
    assert client.get("/things/not-a-uuid").status_code == 404
    assert client.options(f"/things/{thing}").status_code == 200
    assert app.door_calls == []


def test_answers_are_counted_and_logged_under_the_route_never_the_path(app, caplog):
    thing = uuid.uuid4()
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="relais.http"):
        client.get(f"/things/{thing}")
    assert "/things/<uuid:thing_id>" in caplog.text and str(thing) not in caplog.text
    lines = [line for line in client.get("/metrics").get_data(as_text=True).splitlines()
             if line.startswith("relais_http_requests_total{") and 'route="/things/<uuid:thing_id>"' in line]
    assert lines and all(str(thing) not in line for line in lines)


def test_a_door_for_an_endpoint_the_app_does_not_have_is_refused(app):
    with pytest.raises(ValueError, match="things.missing"):
        Door(app, app.wsgi_app, {"things.missing": lambda call: (200, {}, b"")})
