"""`relais admin ...` and `relais keys rotate`: what an administrator types to bootstrap."""

from __future__ import annotations

from click.testing import CliRunner

from relais.gateway_commands import admin, keys

PASSWORD = "a long and private passphrase"


def run(group, *args: str, stdin: str | None = None):
    return CliRunner().invoke(group, list(args), input=stdin, catch_exceptions=False)


def test_bootstrap_an_organisation_its_people_and_its_clients(gateway_env):
    assert run(admin, "create-org", "--code", "cpas-ixelles", "--name", "CPAS d'Ixelles").exit_code == 0
    again = run(admin, "create-org", "--code", "cpas-ixelles", "--name", "CPAS")
    assert again.exit_code != 0 and "already exists" in again.output

    worker = run(admin, "create-user", "--username", "eva.worker", "--role", "professional",
                 "--organisation", "cpas-ixelles", "--profession", "social_worker",
                 stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert worker.exit_code == 0, worker.output
    assert "user_id: " in worker.output and "totp" not in worker.output
    assert PASSWORD not in worker.output

    no_factor = run(admin, "create-user", "--username", "ana.audit", "--role", "auditor",
                    "--organisation", "cpas-ixelles", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert no_factor.exit_code != 0 and "second factor" in no_factor.output
    auditor = run(admin, "create-user", "--username", "ana.audit", "--role", "auditor", "--totp",
                  "--organisation", "cpas-ixelles", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert auditor.exit_code == 0, auditor.output
    assert "totp_secret: " in auditor.output and "otpauth://totp/" in auditor.output

    short = run(admin, "create-user", "--username", "bo.short", "--role", "close_one", stdin="short\nshort\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    taken = run(admin, "create-user", "--username", "eva.worker", "--role", "close_one",
                stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert taken.exit_code != 0 and "taken" in taken.output
    no_org = run(admin, "create-user", "--username", "zed.worker", "--role", "professional",
                 "--organisation", "nowhere", "--profession", "nurse", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert no_org.exit_code != 0 and "create it first" in no_org.output

    system = run(admin, "create-client", "--name", "Case system", "--scopes", "record:read record:write",
                 "--organisation", "cpas-ixelles")
    assert system.exit_code == 0 and "client_secret: " in system.output
    app = run(admin, "create-client", "--name", "Phone app", "--scopes", "self", "--public",
              "--redirect-uri", "https://app.example.org/callback")
    assert app.exit_code == 0 and "client_id: " in app.output and "client_secret" not in app.output


def test_clients_that_would_be_unsafe_are_refused(gateway_env):
    unknown = run(admin, "create-client", "--name", "x", "--scopes", "record:read everything")
    assert unknown.exit_code != 0 and "everything" in unknown.output
    plain_http = run(admin, "create-client", "--name", "x", "--scopes", "self",
                     "--redirect-uri", "http://app.example.org/callback")
    assert plain_http.exit_code != 0 and "https" in plain_http.output
    public_without_redirect = run(admin, "create-client", "--name", "x", "--scopes", "self", "--public")
    assert public_without_redirect.exit_code != 0 and "redirect-uri" in public_without_redirect.output


def test_keys_rotate_adds_a_key(gateway_env):
    first = run(keys, "rotate")
    second = run(keys, "rotate")
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.output.startswith("new signing key: ") and first.output != second.output
