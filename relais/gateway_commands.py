"""`relais admin ...` and `relais keys ...`: bootstrap organisations, accounts and OAuth clients,
and rotate the token signing keys. Secrets are printed once and never logged."""

from __future__ import annotations

import click

from shared.config import ConfigError, load_settings


def _migrate_gateway() -> None:
    from shared.db.migrations import upgrade

    try:
        upgrade("gateway", load_settings("gateway").database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def admin() -> None:
    """Administration: organisations, people's accounts, OAuth clients."""


@admin.command("create-org")
@click.option("--code", required=True, help="Short code, e.g. 'cpas-ixelles' (lowercase, digits, - _ .).")
@click.option("--name", required=True, help="Full name, e.g. 'CPAS d'Ixelles'.")
def create_org(code: str, name: str) -> None:
    """Register an organisation."""
    from services.gateway.admin import IdentityError, create_organisation

    _migrate_gateway()
    try:
        create_organisation(code, name)
    except IdentityError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"organisation: {code}")


@admin.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True,
              type=click.Choice(["professional", "beneficiary", "close_one", "auditor", "admin"]))
@click.option("--organisation", default=None, help="Organisation code (professionals, auditors).")
@click.option("--profession", default=None, help="Profession code, e.g. 'social_worker' (professionals).")
@click.option("--beneficiary", default=None, help="The person's pseudonymous id from consent (beneficiaries).")
@click.option("--totp", is_flag=True, help="Require a TOTP code at sign-in (always for auditors and admins).")
@click.password_option("--password", prompt="Password", help="Asked for when not given (never pass it in scripts' history).")
def create_user(username: str, role: str, organisation: str | None, profession: str | None,
                beneficiary: str | None, totp: bool, password: str) -> None:
    """Create a person's account; prints the TOTP secret once when there is one."""
    from services.gateway.admin import IdentityError
    from services.gateway.admin import create_user as create

    _migrate_gateway()
    try:
        created = create(username, role, password, organisation=organisation, profession=profession,
                         beneficiary=beneficiary, totp=totp)
    except IdentityError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user_id: {created.user_id}")
    if created.totp_secret:
        click.echo(f"totp_secret: {created.totp_secret}")
        click.echo(f"totp_uri: {created.totp_uri}")
        click.echo("Load the secret into an authenticator app now: it cannot be shown again.", err=True)


@admin.command("totp-code")
@click.argument("secret")
def totp_code(secret: str) -> None:
    """Print the current code of a TOTP secret, as an authenticator app would (demos, tests)."""
    from services.gateway.adapters.identities import totp_now

    try:
        click.echo(totp_now(secret.strip().upper()))
    except ValueError:
        raise click.ClickException("not a base32 TOTP secret") from None


@admin.command("create-client")
@click.option("--name", required=True, help="What the client is, e.g. 'CPAS Ixelles case system'.")
@click.option("--scopes", required=True, help="Space-separated scopes, e.g. 'record:read record:write'.")
@click.option("--organisation", default=None, help="Organisation code the client acts for.")
@click.option("--profession", default=None, help="Profession code, for a professional's system.")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="For an application people sign in to (authorization code); repeat for several.")
@click.option("--public", is_flag=True, help="An app that cannot keep a secret (PKCE only, no secret).")
def create_client(name: str, scopes: str, organisation: str | None, profession: str | None,
                  redirect_uris: tuple[str, ...], public: bool) -> None:
    """Register an OAuth client; prints its secret once."""
    from services.gateway.admin import create_client as create

    _migrate_gateway()
    try:
        client_id, secret = create(name, scopes.split(), organisation, profession,
                                   redirect_uris=list(redirect_uris), public=public)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"client_id: {client_id}")
    if secret:
        click.echo(f"client_secret: {secret}")
        click.echo("Keep the secret now: it is stored only as a hash and cannot be shown again.", err=True)


@click.group()
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
def rotate() -> None:
    """Add a new signing key; the older one stays published until the last token it signed
    has expired, and is then removed."""
    from services.gateway.admin import rotate_keys

    click.echo(f"new signing key: {rotate_keys()}")
