"""Who may do what: the role × operation table, with the scope each grant has.

This is the one place that decides access. Views ask `decide(role, operation)` for a scope;
services turn the scope into a query condition; serializers follow CASE_VIEWS[role].
"""

import enum
from dataclasses import dataclass

from api.errors import Forbidden
from api.vocabularies.codes import Role


class Operation(enum.StrEnum):
    ME_READ = "me.read"
    REGION_LIST = "region.list"
    CASE_CREATE = "case.create"
    CASE_LIST = "case.list"
    CASE_READ = "case.read"
    CASE_UPDATE = "case.update"
    CASE_TRIAGE = "case.triage"
    CASE_TRANSITION = "case.transition"
    CASE_REOPEN = "case.reopen"
    CASE_DUPLICATE_DECIDE = "case.duplicate.decide"
    CASE_TIMELINE_READ = "case.timeline.read"
    CASE_ROUTING_PLAN_READ = "case.routing_plan.read"
    CASE_ROUTE = "case.route"
    REFERRAL_CREATE = "referral.create"
    REFERRAL_LIST = "referral.list"
    REFERRAL_READ = "referral.read"
    REFERRAL_TRANSITION = "referral.transition"
    ROUTING_RULES_READ = "routing_rules.read"
    ROUTING_RULES_REPLACE = "routing_rules.replace"
    CHILD_READ = "child.read"
    MEASUREMENT_CREATE = "measurement.create"
    MEASUREMENT_LIST = "measurement.list"
    STATS_READ = "stats.read"
    AUDIT_READ = "audit.read"
    CHILD_ACCESS_LOG = "child.access_log"
    USER_LIST = "user.list"
    USER_CREATE = "user.create"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    LOG_OUT = "auth.log_out"
    LOG_OUT_EVERYWHERE = "auth.log_out_everywhere"
    AGENCY_LIST = "agency.list"
    AGENCY_CREATE = "agency.create"
    AGENCY_UPDATE = "agency.update"
    AGENCY_DELIVERY_LIST = "agency.delivery.list"
    AGENCY_DELIVERY_RETRY = "agency.delivery.retry"
    AGENCY_WEBHOOK_TEST = "agency.webhook.test"
    USER_UPDATE = "user.update"
    ALERT_LIST_OWN = "alert.list_own"


class Scope(enum.StrEnum):
    """Which objects a grant covers."""

    ANY = "any"  # no object, or every object (non-personal data)
    AREA = "area"  # objects located in one of the caller's areas
    OWN_REPORTS = "own_reports"  # cases the caller reported themselves
    AGENCY = "agency"  # referrals to the caller's agency (in the caller's areas, if any)
    MEASURED_IN_AREA = "measured_in_area"  # children of the caller's areas weighed there


class CaseView(enum.StrEnum):
    REPORTER = "reporter"
    AGENCY = "agency"
    FULL = "full"


REPORTERS = (Role.RT_HEAD, Role.TEACHER, Role.POSYANDU_CADRE)
CASE_STAFF = (Role.CASEWORKER, Role.SUPERVISOR)
AREA_ROLES = (*REPORTERS, *CASE_STAFF)
AGENCY_ROLES = (Role.AGENCY_OFFICER, Role.AGENCY_SYSTEM)
MACHINE_ROLES = (Role.AGENCY_SYSTEM,)  # accounts of software, not of a person


def _grant(roles, scope: Scope) -> dict[Role, Scope]:
    return dict.fromkeys(roles, scope)


POLICY: dict[Operation, dict[Role, Scope]] = {
    Operation.ME_READ: _grant(Role, Scope.ANY),
    Operation.REGION_LIST: _grant(Role, Scope.ANY),
    # a report is filed where the reporter works (AREA checks the village of the report)
    Operation.CASE_CREATE: _grant(AREA_ROLES, Scope.AREA),
    Operation.CASE_LIST: {**_grant(REPORTERS, Scope.OWN_REPORTS), **_grant(CASE_STAFF, Scope.AREA)},
    Operation.CASE_READ: {**_grant(REPORTERS, Scope.OWN_REPORTS), **_grant(CASE_STAFF, Scope.AREA)},
    Operation.CASE_UPDATE: _grant(CASE_STAFF, Scope.AREA),
    Operation.CASE_TRIAGE: _grant(CASE_STAFF, Scope.AREA),
    Operation.CASE_TRANSITION: _grant(CASE_STAFF, Scope.AREA),
    Operation.CASE_REOPEN: _grant([Role.SUPERVISOR], Scope.AREA),
    # confirm a possible duplicate (the newer case is closed) or set the pair aside
    Operation.CASE_DUPLICATE_DECIDE: _grant(CASE_STAFF, Scope.AREA),
    Operation.CASE_TIMELINE_READ: _grant(CASE_STAFF, Scope.AREA),
    Operation.CASE_ROUTING_PLAN_READ: _grant(CASE_STAFF, Scope.AREA),
    Operation.CASE_ROUTE: _grant(CASE_STAFF, Scope.AREA),
    Operation.REFERRAL_CREATE: _grant(CASE_STAFF, Scope.AREA),
    Operation.REFERRAL_LIST: {**_grant(CASE_STAFF, Scope.AREA),
                              **_grant(AGENCY_ROLES, Scope.AGENCY)},
    Operation.REFERRAL_READ: {**_grant(CASE_STAFF, Scope.AREA),
                              **_grant(AGENCY_ROLES, Scope.AGENCY)},
    # agencies accept, decline, start and complete; the case side cancels (referrals/workflow)
    Operation.REFERRAL_TRANSITION: {**_grant(CASE_STAFF, Scope.AREA),
                                    **_grant(AGENCY_ROLES, Scope.AGENCY)},
    # the rules of a city one of the supervisor's areas lies in (or covers): they route
    # every case of that city (referrals/service.py check_rules_city)
    Operation.ROUTING_RULES_READ: _grant([Role.SUPERVISOR], Scope.AREA),
    Operation.ROUTING_RULES_REPLACE: _grant([Role.SUPERVISOR], Scope.AREA),
    # posyandu cadres weigh the children of their area every month and find them again, but
    # only children who are weighed: a child known from a violence report is not theirs to see
    Operation.CHILD_READ: {Role.POSYANDU_CADRE: Scope.MEASURED_IN_AREA,
                           **_grant(CASE_STAFF, Scope.AREA)},
    Operation.MEASUREMENT_CREATE: _grant([Role.POSYANDU_CADRE, *CASE_STAFF], Scope.AREA),
    Operation.MEASUREMENT_LIST: {Role.POSYANDU_CADRE: Scope.MEASURED_IN_AREA,
                                 **_grant(CASE_STAFF, Scope.AREA)},
    # aggregates only; the area asked for must lie in the caller's areas (when they have any)
    Operation.STATS_READ: _grant([*CASE_STAFF, Role.ANALYST], Scope.AREA),
    # supervisors: what the people working in their areas did; the admin: everybody's events,
    # without what was searched for (sees_search_terms)
    Operation.AUDIT_READ: {Role.SUPERVISOR: Scope.AREA, Role.ADMIN: Scope.ANY},
    Operation.CHILD_ACCESS_LOG: _grant([Role.SUPERVISOR], Scope.AREA),
    # the admin: every account; a supervisor: the people working in their areas (read-only)
    Operation.USER_LIST: {Role.ADMIN: Scope.ANY, Role.SUPERVISOR: Scope.AREA},
    Operation.USER_CREATE: _grant([Role.ADMIN], Scope.ANY),
    Operation.TOKEN_CREATE: _grant([Role.ADMIN], Scope.ANY),
    Operation.TOKEN_REVOKE: _grant([Role.ADMIN], Scope.ANY),
    # everybody ends their own sessions: the caller's token, or every token of the account
    Operation.LOG_OUT: _grant(Role, Scope.ANY),
    Operation.LOG_OUT_EVERYWHERE: _grant(Role, Scope.ANY),
    Operation.AGENCY_LIST: _grant(Role, Scope.ANY),
    Operation.AGENCY_CREATE: _grant([Role.ADMIN], Scope.ANY),
    Operation.AGENCY_UPDATE: _grant([Role.ADMIN], Scope.ANY),
    # an agency's webhook deliveries: the admin who set the endpoint, and the agency itself
    # (AGENCY: its own code only; any other agency's is answered 404)
    Operation.AGENCY_DELIVERY_LIST: {Role.ADMIN: Scope.ANY, **_grant(AGENCY_ROLES, Scope.AGENCY)},
    Operation.AGENCY_DELIVERY_RETRY: {Role.ADMIN: Scope.ANY,
                                      **_grant(AGENCY_ROLES, Scope.AGENCY)},
    Operation.AGENCY_WEBHOOK_TEST: {Role.ADMIN: Scope.ANY, **_grant(AGENCY_ROLES, Scope.AGENCY)},
    Operation.USER_UPDATE: _grant([Role.ADMIN], Scope.ANY),
    # everybody reads the alerts addressed to them, nobody anybody else's
    Operation.ALERT_LIST_OWN: _grant(Role, Scope.ANY),
}

CASE_VIEWS: dict[Role, CaseView] = {
    **dict.fromkeys(REPORTERS, CaseView.REPORTER),
    **dict.fromkeys(AGENCY_ROLES, CaseView.AGENCY),
    **dict.fromkeys(CASE_STAFF, CaseView.FULL),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user_id: object
    username: str
    role: Role
    area_codes: tuple[str, ...]
    agency_code: str | None
    token_id: object


@dataclass(frozen=True)
class Grant:
    principal: Principal
    operation: Operation
    scope: Scope


def decide(principal: Principal, operation: Operation) -> Grant:
    """The caller's grant for OPERATION; Forbidden (403) when the role has none."""
    scope = POLICY[operation].get(principal.role)
    if scope is None:
        raise Forbidden(f"The role {principal.role.value} may not perform {operation.value}.")
    return Grant(principal=principal, operation=operation, scope=scope)


def check_token_issue(principal: Principal, *, holder_id, holder_role: Role) -> None:
    """Forbidden (403) unless an admin's new token is for a machine account or for the admin.

    A token for a person would let the admin act, and read case content, under that person's
    name: the audit trail would blame them, and §4 of DESIGN.md keeps case content from
    admins. People log in with their own password (POST /auth/tokens).
    """
    if holder_id == principal.user_id or holder_role in MACHINE_ROLES:
        return
    machines = ", ".join(role.value for role in MACHINE_ROLES)
    raise Forbidden(
        f"Admins issue tokens only for machine accounts ({machines}) and for themselves; "
        f"a person (here: {holder_role.value}) logs in with their own password, so that "
        f"nobody acts under their name.")


def covers_agency(grant: Grant, agency_code: str) -> bool:
    """Whether GRANT reaches the agency AGENCY_CODE's own records (its deliveries): any
    agency for an ANY grant, the caller's own under an AGENCY grant."""
    return grant.scope is Scope.ANY or (grant.scope is Scope.AGENCY
                                        and grant.principal.agency_code == agency_code)


def in_areas(principal: Principal, village_code: str) -> bool:
    return any(village_code.startswith(area) for area in principal.area_codes)


def sees_search_terms(role: Role) -> bool:
    """What was searched for (a child's name, a case reference) is case content: the audit
    trail shows it to the office, and to the admin only that a search was made."""
    return role in CASE_STAFF


def sees_contacts(role: Role) -> bool:
    """A person's e-mail and phone are for their alerts: the admin who sets them reads them;
    a supervisor listing the people of their areas sees who they are, not how to reach them."""
    return role is Role.ADMIN


def suppresses_small_counts(role: Role) -> bool:
    """Analysts see kelurahan counts of 1-2 suppressed, so no child can be singled out."""
    return role is Role.ANALYST
