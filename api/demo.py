"""The demo data set: regions of the three cities, one user per role, a few reports."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import service as auth_service
from api.auth.policy import Grant, Operation, Principal, Scope, decide
from api.cases import service as case_service
from api.cases.models import Case
from api.db import utcnow
from api.regions.service import BUNDLED_REGIONS, import_regions, read_region_file
from api.vocabularies.codes import AgencyCode, Category, Role, Sex


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    areas: tuple[str, ...] = ()
    agency: str | None = None


DEMO_USERS = (
    DemoUser("demo_rt_head", Role.RT_HEAD, ("6471011001",)),  # Manggar, Balikpapan Timur
    DemoUser("demo_teacher", Role.TEACHER, ("647101",)),  # Kecamatan Balikpapan Timur
    DemoUser("demo_posyandu_cadre", Role.POSYANDU_CADRE, ("6471011002",)),  # Lamaru
    DemoUser("demo_caseworker", Role.CASEWORKER, ("6471",)),  # Kota Balikpapan
    DemoUser("demo_supervisor", Role.SUPERVISOR, ("6471",)),
    DemoUser("demo_caseworker_banjarmasin", Role.CASEWORKER, ("6371",)),
    DemoUser("demo_agency_officer", Role.AGENCY_OFFICER, agency=AgencyCode.DINSOS.value),
    DemoUser("demo_agency_system", Role.AGENCY_SYSTEM, agency=AgencyCode.DINKES.value),
    DemoUser("demo_analyst", Role.ANALYST, ("6471", "6371", "6372")),
    DemoUser("demo_admin", Role.ADMIN),
)

DEMO_REPORTS = (
    {
        "category": Category.VIOLENCE, "violence_types": ["physical"], "emergency": False,
        "village_code": "6471011001", "rt": "7", "rw": "2",
        "description": "Anak sering terlihat memar di lengan; "
                       "tetangga mendengar teriakan malam hari.",
        "incident_place": "household", "perpetrator_relation": "parent",
        "child": {"name": "Contoh Anak Satu", "sex": Sex.MALE, "age_months": 110},
        "household": {"members_count": 5, "welfare_decile": 3,
                      "economic_stressors": ["unemployment"]},
    },
    {
        "category": Category.STUNTING_RISK, "emergency": False,
        "village_code": "6471011001", "rt": "3", "rw": "1",
        "child": {"name": "Contoh Anak Dua", "sex": Sex.FEMALE, "birth_date": date(2025, 3, 14)},
    },
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    token: str
    password: str  # for the web app's login (/app/masuk)


def load_demo(*, session: Session, secret_key: str, deadlines) -> list[DemoLogin]:
    """Load (or top up) the demo data set; safe to run again. Returns each user's token and
    password."""
    import_regions(session=session, rows=read_region_file(BUNDLED_REGIONS))
    logins = []
    users = {}
    for demo in DEMO_USERS:
        user = auth_service.user_by_name(session=session, username=demo.username)
        if user is None:
            user = auth_service.create_user(session=session, username=demo.username,
                                            role=demo.role, area_codes=list(demo.areas),
                                            agency_code=demo.agency)
        token = auth_service.demo_token_value(secret_key=secret_key, username=demo.username)
        auth_service.ensure_token(session=session, user=user, value=token)
        password = auth_service.demo_password_value(secret_key=secret_key,
                                                    username=demo.username)
        auth_service.ensure_password(session=session, user=user, password=password)
        users[demo.username] = user
        logins.append(DemoLogin(demo.username, demo.role, token, password))
    reporter = users["demo_rt_head"]
    if session.scalar(select(Case.id).where(Case.reporter_id == reporter.id).limit(1)) is None:
        grant = _grant_of(reporter)
        for report in DEMO_REPORTS:
            case_service.report_case(session=session, grant=grant, report=report,
                                     deadlines=deadlines, now=utcnow())
    return logins


def _grant_of(user) -> Grant:
    principal = Principal(user_id=user.id, username=user.username, role=user.role,
                          area_codes=tuple(user.area_codes), agency_code=user.agency_code,
                          token_id=None)
    grant = decide(principal, Operation.CASE_CREATE)
    assert grant.scope is Scope.AREA
    return grant
