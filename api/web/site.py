"""The web app's Blueprint (/app) and its plumbing shared by every page: CSRF protection
(Flask-WTF), the session cookie, languages (Flask-Babel), the Content-Security-Policy, the
navigation by role, and how refusals are shown to a person.

Pages of any audience (reporters.py, account.py, and later the staff console) add their
routes to `blp` and extend templates/base.html.
"""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError, CSRFProtect

from api.auth.policy import Operation, Scope
from api.errors import DomainError, domain_problem, problem
from api.web import csp, i18n
from api.web import session as web_session

blp = Blueprint("web", __name__, url_prefix="/app", template_folder="templates",
                static_folder="static", static_url_path="/static")
csrf = CSRFProtect()

# the navigation: (endpoint, label, operation the policy must grant the role[, the scopes
# the grant must have])
NAVIGATION = (
    ("web.report", lazy_gettext("Lapor"), Operation.CASE_CREATE),
    ("web.weighing", lazy_gettext("Timbang"), Operation.MEASUREMENT_CREATE),
    ("web.my_reports", lazy_gettext("Laporan saya"), Operation.CASE_LIST),
    # the queue is where cases are triaged: whoever may triage works from it
    ("web.queue_page", lazy_gettext("Kasus"), Operation.CASE_TRIAGE),
    ("web.referral_board", lazy_gettext("Rujukan"), Operation.REFERRAL_LIST, (Scope.AGENCY,)),
    ("web.kla", lazy_gettext("KLA"), Operation.STATS_READ),
    ("web.routing_rules", lazy_gettext("Aturan rujukan"), Operation.ROUTING_RULES_REPLACE),
    ("web.audit_events", lazy_gettext("Jejak audit"), Operation.AUDIT_READ),
    ("web.users", lazy_gettext("Pengguna"), Operation.USER_LIST),
)


# where a signed-in person lands: the first page of their day's work that the policy allows
# (a caseworker may report too, but works from the queue)
LANDING = ("web.queue_page", "web.referral_board", "web.kla", "web.report", "web.users")


def landing_page() -> str:
    """The URL of the first LANDING page the signed-in person's role is allowed; the report
    form when none is (it refuses them itself)."""
    entries = {endpoint: (operation, *scopes)
               for endpoint, _, operation, *scopes in NAVIGATION}
    for endpoint in LANDING:
        if web_session.allowed(*entries[endpoint]):
            return url_for(endpoint)
    return url_for("web.report")


@blp.record_once
def _set_up(state) -> None:
    app = state.app
    # only the web routes are checked (below): the bearer API sends no cookie to forge
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # valid for the session's life: a report queued offline for hours is still sent
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    csrf.init_app(app)
    i18n.init_app(app)
    web_session.configure_cookies(app)


@blp.before_request
def _check_csrf() -> None:
    csrf.protect()


@blp.after_request
def _secure(response):
    return csp.secure(i18n.remember_choice(response))


@blp.app_context_processor
def _page_context() -> dict:
    if request.blueprint != "web":
        return {}
    principal = web_session.signed_in()
    navigation = [(endpoint, label) for endpoint, label, operation, *scopes in NAVIGATION
                  if principal is not None
                  and web_session.allowed(operation, *scopes)]
    return {"principal": principal, "navigation": navigation, "label": i18n.label,
            "language": i18n.language()}


@blp.app_template_filter("choices")
def _choices(codes) -> list[tuple[str, str]]:
    """Vocabulary members → (code, label in the page's language), for radios and selects."""
    return [(code.value, i18n.label(code)) for code in codes]


@blp.app_template_filter("village_options")
def _village_options(regions) -> list[tuple[str, str]]:
    return [(region.code, region.name) for region in regions]


def wants_json() -> bool:
    """The page's script (fetch) asks for JSON; a plain form post for a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@blp.errorhandler(DomainError)
def _refused(error: DomainError):
    if wants_json():
        return domain_problem(error)
    if isinstance(error, web_session.NotSignedIn):
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return render_template("errors/refused.html", error=error), error.status


@blp.errorhandler(CSRFError)
def _stale_form(error: CSRFError):
    if wants_json():
        return problem(400, slug="csrf", title="The form is out of date",
                       detail="Reload the page and send again.")
    return render_template("errors/refused.html", error=error, stale=True), 400
