"""Languages of the web app: Indonesian by default, English on request (Flask-Babel).

Texts of the pages are written in Indonesian and translated in
translations/en/LC_MESSAGES/messages.po; the labels of codes (categories, forms of violence,
sexes, …) are never translated here but taken from the vocabularies (vocabularies/codes.py).
"""

from pathlib import Path

from flask import request
from flask_babel import Babel, get_locale

from api.vocabularies.codes import Vocabulary

DEFAULT = "id"
LANGUAGES = ("id", "en")
COOKIE = "lindung_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600  # a language choice is kept for a year
TRANSLATIONS = Path(__file__).parent / "translations"


def chosen_language() -> str:
    """?lang=en|id, else the language cookie, else Indonesian."""
    for asked in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if asked in LANGUAGES:
            return asked
    return DEFAULT


def language() -> str:
    """The language of the current page: "id" or "en"."""
    return str(get_locale() or DEFAULT)


def label(code: Vocabulary | str | None, vocabulary: type[Vocabulary] | None = None) -> str:
    """The label of CODE (a member, or its value in VOCABULARY) in the page's language."""
    if code is None:
        return ""
    if not isinstance(code, Vocabulary):
        code = vocabulary(code)
    return code.label_en if language() == "en" else code.label_id


def remember_choice(response):
    """Keep a ?lang= choice in a cookie, so the next pages (and the offline shell) follow."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE, path="/app",
                            samesite="Lax", secure=request.is_secure, httponly=True)
    return response


def init_app(app) -> None:
    """Flask-Babel for APP: Indonesian by default, this package's catalogs beside any other."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    directories = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        d for d in (directories, str(TRANSLATIONS)) if d)
    Babel(app, locale_selector=chosen_language)
