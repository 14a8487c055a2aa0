"""Routing plans, routing, referrals and the routing rule set."""

import json

import marshmallow as ma
from flask.views import MethodView

from api.audit import service as audit
from api.auth.policy import Operation
from api.cases import service as cases
from api.cases.schemas import CaseSchema
from api.cases.views import answer_with, checked_case
from api.db import get_session, utcnow
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.referrals import feed, service
from api.referrals.models import Referral
from api.referrals.schemas import (
    ManualReferralSchema,
    NoBodySchema,
    PlanItemSchema,
    ReferralMoveSchema,
    ReferralQuerySchema,
    ReferralSchema,
    RoutingRuleSchema,
    RoutingRuleSetSchema,
    RoutingRulesQuerySchema,
)
from api.rest import CREATED_HEADERS, CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("referrals", __name__, url_prefix="/api/v1",
                description="Routing and referrals to agencies")


def etag_data(referral: Referral) -> dict:
    """What a referral's ETag is made of, for the API's If-Match and the web board's forms."""
    # what the caller sees: for agencies the case inside it too, and "overdue" changes with
    # time; a change of the case the agency does not see leaves its ETag as it was
    return {"shown": ReferralSchema().dump(referral), "version": referral.version}


@blp.route("/cases/<uuid:case_id>/routing-plan")
class RoutingPlan(MethodView):
    @blp.requires(Operation.CASE_ROUTING_PLAN_READ)
    @blp.response(200, PlanItemSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getRoutingPlan")
    def get(self, case_id, *, grant):
        """Preview the referrals the routing rules propose for a case, and which rule
        proposes each"""
        case = cases.get_case(session=get_session(), grant=grant, case_id=case_id)
        return service.plan_for(session=get_session(), case=case, now=utcnow())


@blp.route("/cases/<uuid:case_id>/route")
class Route(MethodView):
    @blp.requires(Operation.CASE_ROUTE)
    @blp.etag
    # no body, or an empty object: a client may send either
    @blp.arguments(NoBodySchema, required=False)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="routeCase")
    def post(self, _nothing, case_id, *, grant):
        """Create the routing plan's referrals that are not open already; the case becomes
        referred (If-Match of the case required)"""
        case = checked_case(case_id, grant)
        service.route_case(session=get_session(), grant=grant, case=case, now=utcnow())
        return answer_with(case)


@blp.route("/cases/<uuid:case_id>/referrals")
class ManualReferral(MethodView):
    @blp.requires(Operation.REFERRAL_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(ManualReferralSchema)
    @blp.response(201, ReferralSchema, headers=CREATED_HEADERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="referCase")
    def post(self, referral, case_id, *, grant):
        """Refer a case by hand to an agency's service"""
        session = get_session()
        # locked before a feed position is taken (lock order: db.py)
        case = cases.get_case(session=session, grant=grant, case_id=case_id, for_update=True)
        created = service.refer_by_hand(
            session=session, grant=grant, case=case, agency_code=referral["agency"],
            service=referral["service"], note=referral.get("note"),
            due_in_hours=referral["due_in_hours"], now=utcnow())
        return created, 201, {"Location": f"{blp.url_prefix}/referrals/{created.id}"}


@blp.route("/referrals")
class Referrals(MethodView):
    @blp.requires(Operation.REFERRAL_LIST)
    # unknown parameters refused: a client paging with page=2 would loop on page 1 forever
    @blp.arguments(ReferralQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, ReferralSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.doc(operationId="listReferrals")
    def get(self, query, *, grant):
        """Referrals in change order: caseworkers their areas', agencies their own. Sync by
        passing next_cursor back as cursor: every change comes once, in order"""
        after = feed.position_after(query.pop("cursor", None), grant.principal)
        size = query.pop("page_size")
        page = list(get_session().scalars(service.list_referrals(
            grant=grant, filters=query, after_seq=after, limit=size, now=utcnow())))
        next_cursor = feed.cursor_at(page[-1].sync_seq if page else after, grant.principal)
        return page, {"X-Pagination": json.dumps({"next_cursor": next_cursor,
                                                  "page_size": size})}


@blp.route("/referrals/<uuid:referral_id>")
class ReferralById(MethodView):
    @blp.requires(Operation.REFERRAL_READ)
    @blp.etag
    @blp.response(200, ReferralSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getReferral")
    def get(self, referral_id, *, grant):
        """Read a referral; agencies also get the agency view of the case"""
        referral = service.get_referral(session=get_session(), grant=grant,
                                        referral_id=referral_id)
        blp.set_etag(etag_data(referral))
        return referral


@blp.route("/referrals/<uuid:referral_id>/transitions")
class ReferralTransitions(MethodView):
    @blp.requires(Operation.REFERRAL_TRANSITION)
    @blp.etag
    @blp.arguments(ReferralMoveSchema)
    @blp.response(200, ReferralSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="transitionReferral")
    def post(self, move, referral_id, *, grant):
        """Accept, decline (reason), start, complete (outcome) — the agency; cancel (reason)
        — the case side (If-Match required)"""
        session = get_session()
        referral = service.get_referral(session=session, grant=grant, referral_id=referral_id,
                                        for_update=True)
        blp.check_etag(etag_data(referral))
        referral = service.move_referral(session=session, grant=grant, referral=referral,
                                         move=move, now=utcnow())
        blp.set_etag(etag_data(referral))
        return referral


@blp.route("/routing-rules")
class RoutingRules(MethodView):
    @blp.requires(Operation.ROUTING_RULES_READ)
    # unknown parameters refused: a misspelt city must not fall back to the caller's own
    @blp.arguments(RoutingRulesQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, RoutingRuleSchema(many=True))
    @blp.doc(operationId="getRoutingRules")
    def get(self, query, *, grant):
        """A city's routing rule set, in the order rules are applied (supervisors of the
        city; city may be left out when the caller's areas lie in one city)"""
        city = rules_city(query, grant)
        return service.current_rules(session=get_session(), city_code=city)

    @blp.requires(Operation.ROUTING_RULES_REPLACE)
    @blp.arguments(RoutingRuleSetSchema)
    @blp.arguments(RoutingRulesQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, RoutingRuleSchema(many=True))
    @blp.doc(operationId="replaceRoutingRules")
    def put(self, rules, query, *, grant):
        """Replace a city's whole rule set at once; it is validated first and nothing changes
        when any rule is invalid. Other cities' rules are not touched"""
        city = rules_city(query, grant)
        return service.replace_rules(session=get_session(), city_code=city, rules=rules)


def rules_city(query: dict, grant) -> str:
    """The city whose rules are asked for (QUERY's city, or the caller's only one), checked
    against the caller's areas; also for the web's rules form."""
    city = query.get("city") or service.only_city(grant=grant)
    # named before the check, so a refused attempt on a city's rules is that city's event too
    audit.name_subject("city", city)
    service.check_rules_city(session=get_session(), grant=grant, city_code=city)
    return city
