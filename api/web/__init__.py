"""The web app (DESIGN §9): server-rendered pages under /app, in Indonesian by default, for
the people who report; it decides nothing about access (see session.grant_for)."""

from api.web import (  # noqa: F401  (their routes join the Blueprint)
    account,
    board,
    case_actions,
    kla,
    reporters,
    staff,
    supervision,
)
from api.web.site import blp

__all__ = ["blp"]
