"""`relais audit`: verify the audit log offline, print its latest signed checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def _verifier(key: str | None, settings):
    """(name, public key) from a verifier key (text or file), else from this machine's key."""
    from services.audit.adapters.signing_key import signing_key
    from services.audit.domain.checkpoints import CheckpointError, parse_verifier_key

    if key:
        text = Path(key).read_text() if Path(key).is_file() else key
        try:
            return parse_verifier_key(text)
        except CheckpointError as exc:
            raise click.ClickException(str(exc)) from None
    return settings.origin, signing_key(settings.key_dir).public_key()


def _settings():
    from services.audit.settings import audit_settings
    from shared.config import ConfigError, load_settings

    try:
        base = load_settings("audit")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return base, audit_settings(base.var_dir)


@click.group()
def audit() -> None:
    """The audit log: verify it, print its signed checkpoint."""


@audit.command()
@click.option("--export", "export_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON lines export of the whole log (GET /events/export with no filter).")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signed checkpoint to check the export against (GET /checkpoints/latest).")
@click.option("--key", help="The verifier key, or a file holding it (GET /checkpoints/key). "
                            "Default: this machine's checkpoint key.")
@click.option("--database", help="Verify this audit database instead of the configured one.")
def verify(export_path: Path | None, checkpoint_path: Path | None, key: str | None,
           database: str | None) -> None:
    """Check an export (or the live database) against a signed checkpoint and the public key.

    Exits 1 and names the first bad index when anything was altered, removed, inserted or
    reordered."""
    base, settings = _settings()
    name, public = _verifier(key, settings)
    if export_path is not None:
        if checkpoint_path is None:
            raise click.UsageError("--export needs --checkpoint")
        from services.audit.export_check import verify_export_file

        report = verify_export_file(export_path, checkpoint_path.read_text(), name, public)
        first = report.get("first_bad_index")
    else:
        from sqlalchemy.orm import Session

        from services.audit.reports import verification_report
        from shared.db.engine import make_engine

        engine = make_engine(database or base.database_url)
        try:
            with Session(engine) as session:
                report = verification_report(session, name, public)
        finally:
            engine.dispose()
        first = report["tree"]["first_bad_index"]
    click.echo(json.dumps(report, indent=2, default=str))
    if not report["ok"]:
        where = f"first bad index: {first}" if first is not None else "the log does not verify"
        click.echo(where, err=True)
        sys.exit(1)


@audit.command()
@click.option("--url", help="The audit service's base URL; default: read the configured database.")
def checkpoint(url: str | None) -> None:
    """Print the latest signed checkpoint (C2SP tlog-checkpoint)."""
    if url:
        import requests

        response = requests.get(url.rstrip("/") + "/checkpoints/latest", timeout=10)
        if response.status_code != 200:
            raise click.ClickException(f"{url} answered {response.status_code}")
        click.echo(response.text, nl=False)
        return
    from sqlalchemy.orm import Session

    from services.audit.adapters.repository import AuditLogRepository
    from shared.db.engine import make_engine

    base, _ = _settings()
    engine = make_engine(base.database_url)
    try:
        with Session(engine) as session:
            latest = AuditLogRepository(session).latest_checkpoint()
    finally:
        engine.dispose()
    if latest is None:
        raise click.ClickException("no checkpoint has been signed yet")
    click.echo(latest["note"], nl=False)
