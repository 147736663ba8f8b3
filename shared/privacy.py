"""What counts as personal data in a message, so that it can be refused before it travels."""

from __future__ import annotations

import re
from typing import Any

# Keys that would carry identity or a secret. Events and logs must never hold them.
_PERSONAL_KEY = re.compile(
    r"(^|_)(name|first_name|last_name|family_name|given_name|full_name|birth_date|birthdate|"
    r"date_of_birth|dob|national_number|nrn|niss|ssin|email|phone|address|street|iban|"
    r"password|secret|access_token|refresh_token|free_text|note|notes|comment|narrative)($|_)"
)


_verdicts: dict[str, bool] = {}  # the same few keys come in every event


def is_personal_key(key: str) -> bool:
    """Whether a key names personal data."""
    verdict = _verdicts.get(key)
    if verdict is None:
        verdict = _PERSONAL_KEY.search(key.lower()) is not None
        if len(_verdicts) >= 4096:  # keys made up by a sender must not grow it forever
            _verdicts.clear()
        _verdicts[key] = verdict
    return verdict


def personal_keys(value: Any, path: str = "") -> list[str]:
    """Paths of every key in ``value`` (nested dicts and lists) that names personal data."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and is_personal_key(key):
                found.append(where)
            found.extend(personal_keys(item, where))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found.extend(personal_keys(item, f"{path}[{index}]"))
    return found


def has_personal_keys(value: Any) -> bool:
    """``bool(personal_keys(value))`` without building the paths: the check on every event."""
    if isinstance(value, dict):
        verdicts = _verdicts
        for key, item in value.items():
            verdict = verdicts.get(key) if isinstance(key, str) else False
            if verdict or (verdict is None and is_personal_key(key)):
                return True
            if isinstance(item, (dict, list, tuple)) and has_personal_keys(item):
                return True
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (dict, list, tuple)) and has_personal_keys(item):
                return True
    return False
