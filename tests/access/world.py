"""The objects one access test needs, each made through the API when first asked for.

The caller has one role and works in the kecamatan Balikpapan Timur (agency roles: for DINSOS
there). Every object comes as the caller's own and as out-of-scope twins: in Balikpapan Barat
(the same city, another kecamatan) or Kota Banjarmasin, reported by somebody else, addressed to
another agency, or a child never weighed.
"""

import datetime
import uuid
from functools import cached_property

from api.auth import service as auth_service
from api.auth.policy import AGENCY_ROLES, REPORTERS, Scope
from api.regions import calendar
from api.vocabularies.codes import Role
from tests.conftest import (
    BALIKPAPAN,
    BALIKPAPAN_TIMUR,
    BANJARMASIN,
    MANGGAR,
    MANTUIL,
    child_report,
)

OWN_AGENCY, OTHER_AGENCY = "DINSOS", "DINKES"
BARU_ILIR = "6471021001"  # Balikpapan Barat
SEARCHES = {BALIKPAPAN_TIMUR: "Budi", BANJARMASIN: "Siti"}
# a case with a possible duplicate → that duplicate (World.duplicated_case)
DUPLICATE_OF: dict[str, str] = {}


class World:
    agency = OWN_AGENCY  # the agency whose record the admin reads and edits
    def __init__(self, client, session, make_user, role: Role):
        self.client, self.session, self.make_user = client, session, make_user
        self.role = role
        areas = [] if role is Role.ADMIN else [BALIKPAPAN_TIMUR]
        self.caller = make_user(role, areas, OWN_AGENCY if role in AGENCY_ROLES else None)
        # the child-protection office of both cities, which moves the cases along
        self.office = make_user(Role.SUPERVISOR, [BALIKPAPAN, BANJARMASIN])

    # --- cases -----------------------------------------------------------------------------

    @cached_property
    def reported_case(self) -> str:
        """A case in Manggar: the caller's own report when the caller reports cases."""
        reporter = self.caller if self.role in REPORTERS else self._reporter(MANGGAR)
        return self._report(reporter, MANGGAR)

    @cached_property
    def triaged_case(self) -> str:
        case_id = self._report(self._reporter_of_own_cases(), MANGGAR)
        self._triage(case_id)
        return case_id

    @cached_property
    def referred_case(self) -> str:
        case_id = self._report(self._reporter_of_own_cases(), MANGGAR)
        self._triage(case_id)
        self._route(case_id)
        return case_id

    @cached_property
    def duplicated_case(self) -> str:
        """A report of the child of an earlier report in Manggar: a possible duplicate."""
        earlier = self._report(self._reporter(MANGGAR), MANGGAR)
        case_id = self._report(self._reporter_of_own_cases(), MANGGAR)
        DUPLICATE_OF[case_id] = earlier
        return case_id

    @cached_property
    def case_reported_by_another(self) -> str:
        return self._report(self._reporter(MANGGAR), MANGGAR)

    @cached_property
    def case_elsewhere(self) -> str:
        """A case in Baru Ilir, Balikpapan Barat, triaged and routed."""
        case_id = self._report(self._reporter(BARU_ILIR), BARU_ILIR)
        self._triage(case_id)
        self._route(case_id)
        return case_id

    def out_of_scope_cases(self, scope: Scope) -> list[str]:
        if scope is Scope.OWN_REPORTS:
            return [self.case_reported_by_another, self.case_elsewhere]
        return [self.case_elsewhere]

    # --- referrals -------------------------------------------------------------------------

    @cached_property
    def referral(self) -> str:
        """A pending referral of a Manggar case to the caller's agency."""
        return self._referral_of(self.referred_case, OWN_AGENCY)

    def out_of_scope_referrals(self, scope: Scope) -> list[str]:
        elsewhere = self._referral_of(self.case_elsewhere, OWN_AGENCY)
        if scope is Scope.AGENCY:
            return [self._referral_of(self.referred_case, OTHER_AGENCY), elsewhere]
        return [elsewhere]

    # --- children --------------------------------------------------------------------------

    @cached_property
    def weighed_child(self) -> str:
        """A child weighed at the posyandu of Manggar."""
        return self._weigh(MANGGAR)

    @cached_property
    def reported_child(self) -> str:
        """The child of a violence report in Manggar, never weighed."""
        return self._office_reads(f"/api/v1/cases/{self.reported_case}").json["child"]["id"]

    def out_of_scope_children(self, scope: Scope) -> list[str]:
        elsewhere = self._weigh(MANTUIL)
        if scope is Scope.MEASURED_IN_AREA:
            return [self.reported_child, elsewhere]
        return [elsewhere]

    # --- what the audit trail and the statistics are made of ------------------------------

    @cached_property
    def searches(self) -> dict[str, str]:
        """Caseworkers of Balikpapan Timur and of Banjarmasin looked for a child by name: the
        words are in the audit trail. Which name was searched where."""
        for area, name in SEARCHES.items():
            worker = self.make_user(Role.CASEWORKER, [area])
            response = self.client.get("/api/v1/cases", query_string={"q": name},
                                       headers=worker.headers)
            assert response.status_code == 200
        return SEARCHES

    # --- agency webhooks -------------------------------------------------------------------

    @cached_property
    def webhooks(self) -> dict[str, int]:
        """DINSOS and DINKES with an endpoint and one pending delivery each: their ids."""
        from api.agencies.models import Agency
        from api.outbox.models import Delivery
        from api.outbox.service import new_webhook_secret, record_event

        deliveries = {}
        for code in (OWN_AGENCY, OTHER_AGENCY):
            agency = self.session.get(Agency, code)
            agency.webhook_url = "http://127.0.0.1:9/lindung"
            agency.webhook_secret = new_webhook_secret()
            event = record_event(session=self.session, kind="webhook.test",
                                 data={"agency": code}, agency=agency,
                                 ordering_key=f"{code}:test")
            deliveries[code] = self.session.query(Delivery).filter_by(event_id=event.id).one().id
        self.session.commit()
        return deliveries

    @cached_property
    def delivery(self) -> str:
        """A pending webhook delivery to the caller's agency."""
        return str(self.webhooks[OWN_AGENCY])

    def out_of_scope_deliveries(self, scope: Scope) -> list[str]:
        return [str(self.webhooks[OTHER_AGENCY])] if scope is Scope.AGENCY else []

    # --- users and tokens ------------------------------------------------------------------

    @cached_property
    def user(self) -> str:
        return str(self._reporter(MANGGAR).id)

    @cached_property
    def machine_account(self) -> str:
        """An agency's software (agency_system): the accounts an admin issues tokens for."""
        return str(self.account_of(Role.AGENCY_SYSTEM).id)

    def account_of(self, role: Role):
        """Another account with ROLE, working where the caller does."""
        areas = [] if role in (Role.ADMIN, *AGENCY_ROLES) else [BALIKPAPAN_TIMUR]
        return self.make_user(role, areas, OWN_AGENCY if role in AGENCY_ROLES else None)

    @cached_property
    def token(self) -> str:
        user = auth_service.create_user(session=self.session, role=Role.RT_HEAD,
                                        username=f"rt-{uuid.uuid4().hex[:8]}",
                                        area_codes=[MANGGAR])
        record, _ = auth_service.issue_token_record(session=self.session, user=user)
        self.session.commit()
        return str(record.id)

    @cached_property
    def routing_rules(self) -> list:
        """The rules in force in Balikpapan, the caller's city, to be put back as they are."""
        return self._office_reads(f"/api/v1/routing-rules?city={BALIKPAPAN}").json

    @cached_property
    def login(self) -> dict:
        username = f"cadre-{uuid.uuid4().hex[:8]}"
        auth_service.create_user(session=self.session, username=username,
                                 role=Role.POSYANDU_CADRE, area_codes=[MANGGAR],
                                 password="Kader-posyandu-2026")
        self.session.commit()
        return {"username": username, "password": "Kader-posyandu-2026"}

    # --- helpers ---------------------------------------------------------------------------

    def etag(self, url: str, reader=None) -> str:
        """The ETag of URL as READER sees it (views differ), or as the office does."""
        if reader is not None:
            response = self.client.get(url, headers=reader.headers)
            if response.status_code == 200:
                return response.headers["ETag"]
        return self._office_reads(url).headers["ETag"]

    def _office_reads(self, url: str):
        response = self.client.get(url, headers=self.office.headers)
        assert response.status_code == 200, response.json
        return response

    def _reporter_of_own_cases(self):
        return self.caller if self.role in REPORTERS else self._reporter(MANGGAR)

    def _reporter(self, village: str):
        return self.make_user(Role.RT_HEAD, [village])

    def _report(self, reporter, village: str) -> str:
        response = self.client.post("/api/v1/cases", json=child_report(village_code=village),
                                    headers=reporter.headers)
        assert response.status_code == 201, response.json
        return response.json["id"]

    def _triage(self, case_id: str) -> None:
        self._office_acts(f"/api/v1/cases/{case_id}/triage", {"risk_level": "high"},
                          f"/api/v1/cases/{case_id}")

    def _route(self, case_id: str) -> None:
        self._office_acts(f"/api/v1/cases/{case_id}/route", None, f"/api/v1/cases/{case_id}")

    def _office_acts(self, url: str, body, resource_url: str) -> None:
        response = self.client.post(url, json=body, headers={
            **self.office.headers, "If-Match": self.etag(resource_url)})
        assert response.status_code == 200, response.json

    def _referral_of(self, case_id: str, agency: str) -> str:
        referrals = self.client.get("/api/v1/referrals", headers=self.office.headers,
                                    query_string={"case_id": case_id, "agency": agency}).json
        assert len(referrals) == 1, referrals
        return referrals[0]["id"]

    def _weigh(self, village: str) -> str:
        response = self.client.post("/api/v1/measurements", headers=self.office.headers,
                                    json=weighing(village))
        assert response.status_code == 201, response.json
        return response.json["child_id"]


def weighing(village: str, **overrides) -> dict:
    """A healthy one-year-old girl weighed yesterday at the posyandu of VILLAGE."""
    yesterday = calendar.today_in(village) - datetime.timedelta(days=1)
    entry = {
        "child": {"name": f"Putri {uuid.uuid4().hex[:6]}", "sex": "female",
                  "birth_date": (yesterday - datetime.timedelta(days=365)).isoformat(),
                  "village_code": village, "rt": "3", "rw": "1"},
        "measured_on": yesterday.isoformat(), "weight_kg": 8.9, "height_cm": 74.0,
        "position": "lying",
    }
    return {**entry, **overrides}
