"""Settings read from the environment: defaults, database URLs and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import (
    SERVICES,
    ConfigError,
    load_settings,
    normalise_database_url,
    service_database_url,
)


@pytest.fixture
def var_env(tmp_path):
    return {"RELAIS_VAR_DIR": str(tmp_path)}


def test_defaults_without_any_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings("record", environ={})
    assert settings.service == "record"
    assert settings.var_dir == (tmp_path / "var").resolve()
    assert settings.database_url == f"sqlite:///{(tmp_path / 'var' / 'record.db').resolve()}"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8102
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.jwks_url == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert settings.token_ttl_seconds == 300
    assert settings.max_body_bytes == 65536
    assert settings.log_level == "INFO"
    assert settings.log_format == "json"
    assert settings.bus.amqp_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert settings.bus.prefetch == 200
    assert settings.bus.consumer_batch == 200
    assert settings.bus.max_attempts == 5
    assert settings.bus.retry_delays == (1.0, 5.0, 30.0)
    assert settings.bus.relay_batch == 500
    assert settings.bus.relay_poll_seconds == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("service", "port"),
    [("gateway", 8000), ("consent", 8101), ("record", 8102), ("alerts", 8103), ("audit", 8104)],
)
def test_default_ports(service, port, var_env):
    assert load_settings(service, environ=var_env).port == port


def test_port_variables_move_every_port(var_env):
    env = {**var_env, "RELAIS_PORT": "9000", "RELAIS_SERVICE_PORT_BASE": "9100"}
    assert load_settings("gateway", environ=env).port == 9000
    assert load_settings("audit", environ=env).port == 9104
    # The issuer follows the gateway's port unless it is set.
    assert load_settings("record", environ=env).issuer == "http://127.0.0.1:9000"


def test_default_service_urls(var_env):
    urls = load_settings("gateway", environ=var_env).service_urls
    assert urls == {
        "consent": "http://127.0.0.1:8101",
        "record": "http://127.0.0.1:8102",
        "alerts": "http://127.0.0.1:8103",
        "audit": "http://127.0.0.1:8104",
    }


def test_service_url_override_loses_its_trailing_slash(var_env):
    env = {**var_env, "RECORD_URL": "http://record.internal:9999/"}
    assert (
        load_settings("gateway", environ=env).service_urls["record"]
        == "http://record.internal:9999"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_its_own_sqlite_file_under_the_var_dir(service, tmp_path):
    url = load_settings(service, environ={"RELAIS_VAR_DIR": str(tmp_path)}).database_url
    assert url == f"sqlite:///{tmp_path.resolve() / (service + '.db')}"


def test_service_database_url_wins_over_database_url(var_env):
    env = {
        **var_env,
        "DATABASE_URL": "postgresql://u:p@server/whatever",
        "RECORD_DATABASE_URL": "sqlite:////tmp/own-record.db",
    }
    assert load_settings("record", environ=env).database_url == "sqlite:////tmp/own-record.db"
    # Another service without its own variable still uses the server.
    assert (
        load_settings("consent", environ=env).database_url
        == "postgresql+psycopg://u:p@server/relais_consent"
    )


def test_database_url_gives_one_database_per_service(var_env):
    env = {**var_env, "DATABASE_URL": "postgres://u:p@h/x"}
    assert (
        load_settings("record", environ=env).database_url
        == "postgresql+psycopg://u:p@h/relais_record"
    )
    assert (
        load_settings("audit", environ=env).database_url
        == "postgresql+psycopg://u:p@h/relais_audit"
    )


def test_database_url_keeps_port_and_an_escaped_password(var_env):
    env = {**var_env, "DATABASE_URL": "postgresql://u:p%40ss@db.example:6543/x"}
    url = service_database_url("alerts", env)
    assert url == "postgresql+psycopg://u:p%40ss@db.example:6543/relais_alerts"


def test_own_postgres_url_is_normalised(var_env):
    env = {**var_env, "AUDIT_DATABASE_URL": "postgres://a:b@c/audit_db"}
    assert load_settings("audit", environ=env).database_url == "postgresql+psycopg://a:b@c/audit_db"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_database_url(raw, expected):
    assert normalise_database_url(raw) == expected


def test_amqp_url_and_numbers_are_read(var_env):
    env = {
        **var_env,
        "AMQP_URL": "amqp://relais:pw@rabbit:5672/relais",
        "RELAIS_PREFETCH": "50",
        "RELAIS_RETRY_DELAYS_SECONDS": "0.5,2",
        "RELAIS_UPSTREAM_TIMEOUT_SECONDS": "2.5",
        "RELAIS_LOG_LEVEL": "debug",
        "RELAIS_LOG_FORMAT": "console",
    }
    settings = load_settings("alerts", environ=env)
    assert settings.bus.amqp_url == "amqp://relais:pw@rabbit:5672/relais"
    assert settings.bus.prefetch == 50
    assert settings.bus.retry_delays == (0.5, 2.0)
    assert settings.upstream_timeout_seconds == 2.5
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "console"


@pytest.mark.parametrize(
    "variable",
    [
        "RELAIS_PREFETCH",
        "RELAIS_CONSUMER_BATCH",
        "RELAIS_MAX_ATTEMPTS",
        "RELAIS_RELAY_BATCH",
        "RELAIS_TOKEN_TTL_SECONDS",
        "RELAIS_MAX_BODY_BYTES",
        "RELAIS_WEB_WORKERS",
        "RELAIS_WEB_THREADS",
        "RELAIS_UPSTREAM_TIMEOUT_SECONDS",
        "RELAIS_RELAY_POLL_SECONDS",
        "RELAIS_PORT",
        "RELAIS_SERVICE_PORT_BASE",
    ],
)
def test_a_bad_number_raises_config_error_naming_the_variable(variable, var_env):
    with pytest.raises(ConfigError) as caught:
        load_settings("record", environ={**var_env, variable: "abc"})
    assert variable in str(caught.value)


def test_a_whole_number_variable_refuses_a_fraction(var_env):
    with pytest.raises(ConfigError, match="RELAIS_PREFETCH"):
        load_settings("record", environ={**var_env, "RELAIS_PREFETCH": "1.5"})


@pytest.mark.parametrize("value", ["abc", "1,x,3", "0", "-1,5", "5,0", ",", "nan", "1,inf"])
def test_bad_retry_delays_raise_config_error(value, var_env):
    with pytest.raises(ConfigError, match="RELAIS_RETRY_DELAYS_SECONDS"):
        load_settings("record", environ={**var_env, "RELAIS_RETRY_DELAYS_SECONDS": value})


@pytest.mark.parametrize("value", ["xml", "JSON ", "text", ""])
def test_bad_log_format_raises_config_error(value, var_env):
    with pytest.raises(ConfigError, match="RELAIS_LOG_FORMAT"):
        load_settings("record", environ={**var_env, "RELAIS_LOG_FORMAT": value})


@pytest.mark.parametrize("service", ["billing", "", "Record"])
def test_unknown_service_raises(service, var_env):
    with pytest.raises(ValueError, match="unknown service"):
        load_settings(service, environ=var_env)


def test_settings_are_immutable(var_env):
    settings = load_settings("record", environ=var_env)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_environ_argument_is_the_only_source(var_env, monkeypatch):
    monkeypatch.setenv("RELAIS_PREFETCH", "abc")
    monkeypatch.setenv("RECORD_DATABASE_URL", "sqlite:////elsewhere.db")
    settings = load_settings("record", environ=var_env)
    assert settings.bus.prefetch == 200
    assert (
        settings.database_url
        == f"sqlite:///{Path(var_env['RELAIS_VAR_DIR']).resolve() / 'record.db'}"
    )


def test_outbox_retention_defaults_to_a_week_and_is_read(var_env):
    assert load_settings("record", environ=var_env).bus.outbox_retention_hours == 168.0
    env = {**var_env, "RELAIS_OUTBOX_RETENTION_HOURS": "0.5"}
    assert load_settings("record", environ=env).bus.outbox_retention_hours == 0.5


@pytest.mark.parametrize("value", ["0", "-3", "inf", "nan", "1e12", "a week"])
def test_an_outbox_retention_that_is_not_a_sensible_span_raises_config_error(value, var_env):
    with pytest.raises(ConfigError, match="RELAIS_OUTBOX_RETENTION_HOURS"):
        load_settings("record", environ={**var_env, "RELAIS_OUTBOX_RETENTION_HOURS": value})


def test_threads_per_worker_by_service_then_for_all_then_by_default(var_env):
    def threads(service: str, **env: str) -> int:
        return load_settings(service, environ={**var_env, **env}).web_threads

    assert threads("record") == 4 and threads("gateway") == 8 and threads("consent") == 8
    assert threads("record", RELAIS_WEB_THREADS="6") == 6 == threads("gateway", RELAIS_WEB_THREADS="6")
    both = {"RELAIS_WEB_THREADS": "6", "RECORD_WEB_THREADS": "2"}
    assert threads("record", **both) == 2 and threads("gateway", **both) == 6
    with pytest.raises(ConfigError, match="RECORD_WEB_THREADS"):
        threads("record", RECORD_WEB_THREADS="many")
