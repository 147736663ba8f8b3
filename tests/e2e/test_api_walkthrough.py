"""docs/api-walkthrough.md is a script: its shell blocks, run in order against a running stack,
must do what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import ROOT, start_stack, teardown

pytestmark = pytest.mark.e2e
WALKTHROUGH = ROOT / "docs" / "api-walkthrough.md"


def blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", WALKTHROUGH.read_text(), re.M | re.S)


@pytest.fixture
def stack(tmp_path):
    running = start_stack(tmp_path / "var")
    yield running
    running.stop()
    teardown(running)


def test_the_walkthrough_runs_as_written(stack, tmp_path):
    found = blocks()
    assert len(found) >= 8
    script = "set -euo pipefail\n" + "\n".join(found)
    env = {**stack.env, "RELAIS": stack.gateway,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    assert re.search(r"the person's pseudonymous id: [0-9a-f-]{36}", out)
    assert "Straathoekwerk" in out  # the timeline's labels, in Dutch as asked
    assert "acknowledged" in out and "the alert is resolved" in out
    recorded = re.search(r"recorded: (.*)", out).group(1).split()
    assert {"beneficiary.register", "contact.log", "timeline.read"} <= set(recorded)
    assert "relais.local/audit" in out  # the signed checkpoint's origin line
