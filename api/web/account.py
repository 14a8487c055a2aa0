"""Signing in and out of the web app (/app/masuk, /app/keluar, /app/keluar-semua).

The password is checked as POST /api/v1/auth/tokens checks it (argon2id), under the same
login limits: the same counters per account and per client address (auth/limits.py), so that
tries through the API and through the form add up.
"""

import hashlib

from flask import redirect, render_template, request, url_for
from flask_babel import gettext

from api.auth import limits
from api.auth.service import normalise_username
from api.web import session as web_session
from api.web import site
from api.web.site import blp

LOGIN_ENDPOINT = "web.login"


@blp.route("/")
def home():
    """Where a person lands: their role's first page of work (site.landing_page), or the
    login."""
    if web_session.signed_in() is None:
        return redirect(url_for("web.login"))
    return redirect(site.landing_page())


@blp.route("/masuk", methods=["GET", "POST"])
def login():
    """The login form; a right password starts a session and goes on to NEXT."""
    if request.method == "GET":
        return render_template("account/login.html",
                               signed_out=request.args.get("keluar") == "1")
    if web_session.sign_in(username=request.form.get("username", ""),
                           password=request.form.get("password", "")):
        return redirect(_next_page(), code=303)
    return render_template("account/login.html",
                           failed=gettext("Nama pengguna atau kata sandi salah.")), 401


@blp.route("/keluar", methods=["POST"])
def logout():
    """End this browser's session."""
    web_session.sign_out(everywhere=False)
    return redirect(url_for("web.login", keluar=1), code=303)


@blp.route("/keluar-semua", methods=["POST"])
def logout_everywhere():
    """End every session and token of the account, on every device."""
    web_session.sign_out(everywhere=True)
    return redirect(url_for("web.login", keluar=1), code=303)


@blp.errorhandler(429)
def _too_many_tries(error):
    return render_template("account/login.html", failed=gettext(
        "Terlalu banyak percobaan masuk. Tunggu sebentar lalu coba lagi.")), 429


def account_of_form() -> str:
    """The login's account key, as limits.account_of_request makes it from the API's body."""
    account = normalise_username(request.form.get("username", ""))
    return f"account:{hashlib.sha256(account.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _next_page() -> str:
    target = request.args.get("next", "")
    # only a page of this app: never a redirect to another host (//host, /\host)
    if target.startswith("/app/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return site.landing_page()


@blp.record_once
def _limit_logins(state) -> None:
    limiter = next(iter(state.app.extensions.get("limiter", ())), None)
    if limiter is None:
        raise RuntimeError("Register the web Blueprint after the login limits "
                           "(api/auth/limits.py init_app).")
    view = state.app.view_functions[LOGIN_ENDPOINT]
    # shared with the API's limits: the very buckets auth/limits.py counts its logins in
    view = limiter.shared_limit(limits.PER_ACCOUNT, key_func=account_of_form, methods=["POST"],
                                scope=f"{limits.LOGIN_ENDPOINT}:login-account")(view)
    view = limiter.shared_limit(limits.PER_ADDRESS, methods=["POST"],
                                scope=f"{limits.LOGIN_ENDPOINT}:login-address")(view)
    state.app.view_functions[LOGIN_ENDPOINT] = view
