"""The README's configuration table and shared/config.py name the same variables."""

from __future__ import annotations

import re
from pathlib import Path

from shared.config import DOCUMENTED_VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def _readme_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([^`]+)` \| (.+?) \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2).strip().strip("`")
    return rows


def test_every_variable_is_documented_with_its_default():
    table = _readme_table()
    assert set(table) == set(DOCUMENTED_VARIABLES)
    for name, (default, _what) in DOCUMENTED_VARIABLES.items():
        assert table[name] == default, name


def test_every_variable_read_by_the_code_is_documented():
    files = [*(ROOT / "shared").rglob("*.py"), *(ROOT / "services").rglob("*.py")]
    source = "\n".join(p.read_text() for p in files)
    read = set(re.findall(r'\.(?:str|int|float|bool)\("([A-Z][A-Z0-9_]+)"', source))
    read |= set(re.findall(r'env\.get\("([A-Z_]+)"', source))
    documented = set(DOCUMENTED_VARIABLES)
    missing = {v for v in read if v not in documented and not v.endswith("_DATABASE_URL")}
    assert not missing, missing
