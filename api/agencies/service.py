"""Adding, changing and finding agencies."""

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.agencies.models import Agency
from api.errors import Conflict, InvalidInput, NotFound


def list_agencies() -> Select:
    return select(Agency).order_by(Agency.code)


def get_agency(*, session: Session, code: str) -> Agency:
    agency = session.get(Agency, code)
    if agency is None:
        raise NotFound("No such agency.")
    return agency


def add_agency(*, session: Session, code: str, name: str, services: list) -> Agency:
    if session.get(Agency, code) is not None:
        raise Conflict(f"An agency with code {code} exists already.")
    agency = Agency(code=code, name=name, services=[s.value for s in services])
    session.add(agency)
    session.flush()
    return agency


def change_agency(*, session: Session, agency: Agency, changes: dict) -> Agency:
    """Rename an agency or change its services; a service a routing rule names stays.

    The agency's row is locked before the rules are read (lock order: db.py), as
    referrals.service.replace_rules locks it before it checks the agencies.
    """
    if not changes:
        raise InvalidInput({"_schema": ["Nothing to change: send name or services."]})
    session.scalars(select(Agency).where(Agency.code == agency.code).with_for_update(key_share=True)
                    .execution_options(populate_existing=True)).all()
    if "name" in changes:
        agency.name = changes["name"]
    if "services" in changes:
        services = [s.value for s in changes["services"]]
        _check_rules_still_served(session=session, agency=agency, services=services)
        agency.services = services
    session.flush()
    return agency


def _check_rules_still_served(*, session: Session, agency: Agency, services: list[str]):
    """A routing rule must never send cases to a service the agency stopped offering."""
    from api.referrals.models import RoutingRule

    # every city has its own copy of the rules: name each rule once
    orphaned = session.scalars(select(RoutingRule.id).distinct().where(
        RoutingRule.agency_code == agency.code, RoutingRule.service.not_in(services))
        .order_by(RoutingRule.id)).all()
    if orphaned:
        raise Conflict(f"Routing rule(s) {', '.join(orphaned)} send cases to a service this "
                       "change removes; a supervisor must change the rules first.")


def offers(agency: Agency, service: str) -> bool:
    return service in agency.services
