"""Run the gateway's administration commands (`relais admin ...`) in a subprocess against a
running stack's configuration."""

from __future__ import annotations

import subprocess
import sys

from tests.support.stack import ROOT, RunningStack

_ENTRY = "import sys; from relais.gateway_commands import admin; admin(prog_name='relais admin')"


def relais_admin(stack: RunningStack, *args: str, stdin: str | None = None) -> dict[str, str]:
    """The command's `name: value` lines, as a dict; fails the test when the command fails."""
    result = subprocess.run(
        [sys.executable, "-c", _ENTRY, *args],
        env=stack.env, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split(": ", 1) for line in result.stdout.strip().splitlines() if ": " in line)
