"""Who may open a page: a signed-in person with one of the named roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask_babel import gettext

from services.gateway.web.account import SignedOut, current_user
from services.gateway.web.errors import error_page


def signed_in(*roles: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            user = current_user()
            if user is None:
                raise SignedOut()
            if roles and user.get("role") not in roles:
                return error_page(403, gettext("Not for this account"),
                                  gettext("You are signed in with an account that may not open this page."))
            g.user = user
            return view(*args, **kwargs)

        return wrapper

    return decorate
