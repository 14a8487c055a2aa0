"""For the tests of the staff console's pages with Flask's test client (in-process): signing
in through the login form, and reading a form's fields as a browser would send them."""

import uuid
from html.parser import HTMLParser

import pytest
import requests

from api.auth import service as auth_service
from api.vocabularies.codes import Role
from tests.conftest import child_report
from tests.servers import bearer
from tests.web.conftest import csrf_token_of

PASSWORD = "pohon mangga di halaman"


@pytest.fixture
def signed_in(app, session):
    """signed_in(role, areas, agency) → a test client signed in as a new user of ROLE (its
    `user` attribute: the account)."""
    def sign_in(role: Role, areas=(), agency=None):
        user = auth_service.create_user(session=session, username=f"u-{uuid.uuid4().hex[:8]}",
                                        role=role, area_codes=list(areas), agency_code=agency,
                                        password=PASSWORD)
        session.commit()
        browser = app.test_client()
        token = csrf_token_of(browser.get("/app/masuk").get_data(as_text=True))
        assert browser.post("/app/masuk", data={"csrf_token": token, "username": user.username,
                                                "password": PASSWORD}).status_code == 303
        browser.user = user
        return browser
    return sign_in


class _FormReader(HTMLParser):
    """The fields of the form posting to ACTION, as a browser sends them unchanged."""

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.fields = action, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action", "").split("?")[0] == self.action
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind not in ("checkbox", "radio") or "checked" in attrs:
                self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea = [attrs.get("name"), ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append(tuple(self.textarea))
            self.textarea = None


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    """(name, value) of each field the form posting to ACTION (a path) would send."""
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


def routed_case(server, *, child_name: str) -> tuple[dict, dict]:
    """Over HTTP on the served Lindung: a violence case the demo RT head reports, the demo
    caseworker triages high and routes; (the case, its DINSOS referral)."""
    base, tokens = server["base"], server["tokens"]
    reporter, worker = bearer(tokens["demo_rt_head"]), bearer(tokens["demo_caseworker"])
    report = child_report(child={"name": child_name, "sex": "female",
                                 "birth_date": "2016-08-17"})
    case = requests.post(f"{base}/cases", json=report, headers=reporter, timeout=10).json()
    url = f"{base}/cases/{case['id']}"
    for step, body in (("triage", {"risk_level": "high"}), ("route", None)):
        etag = requests.get(url, headers=worker, timeout=10).headers["ETag"]
        answer = requests.post(f"{url}/{step}", json=body, timeout=10,
                               headers={**worker, "If-Match": etag})
        assert answer.status_code == 200, answer.text
    referrals = requests.get(f"{base}/referrals", params={"case_id": case["id"]},
                             headers=worker, timeout=10).json()
    return case, next(r for r in referrals if r["agency"] == "DINSOS")
