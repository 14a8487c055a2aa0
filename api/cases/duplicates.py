"""Possible duplicates as clusters (DESIGN §5): a child's reports and the reports that may be
about the same child share one cluster; linked, never merged silently.

A new report is compared with the open cases of its city from the last 90 days by three
index probes (the same child record; a child record with the same NIK; a child of the same
kelurahan and birth date whose name is written alike, children/names.py). It joins the
clusters of the cases it matches, merging them: a fixed number of statements per report,
whatever a child's history. A case shows the most recent members of its cluster in the
caller's areas (at most SHOWN) and how many there are, less the pairs a caseworker decided
were not duplicates (DuplicateDismissal).
"""

import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from api.auth.policy import Principal, in_areas
from api.cases.models import Case, DuplicateDismissal
from api.children import names
from api.children.models import Child
from api.regions import codes as region_codes
from api.regions.service import within_areas, within_prefix
from api.vocabularies.codes import CaseStatus

DUPLICATE_WINDOW = timedelta(days=90)
# the members a case shows; possible_duplicate_count tells how many there are in all
SHOWN = 10
SAME_CHILD = "same_child"  # the same child record, or a child record with the same NIK
SAME_CHILD_AND_VILLAGE = "same_child_and_village"  # name written alike, birth date, kelurahan


class DuplicateDecision(enum.StrEnum):
    """A caseworker's word on a possible duplicate."""

    CONFIRMED = "confirmed"  # the same child and the same matter: the newer case is closed
    NOT_DUPLICATE = "not_duplicate"  # not the same child: the pair is shown no more


@dataclass(frozen=True)
class ShownDuplicates:
    """What a case shows of its cluster: LINKS (dicts of id, reference, reason and
    village_code, newest first, at most SHOWN) and COUNT (all of them in the caller's areas)."""

    links: list[dict]
    count: int

    @property
    def version(self) -> list:
        """What changes when what is shown changes (part of the case's ETag)."""
        return [self.count, *(str(link["id"]) for link in self.links)]


def cluster_on_report(*, session: Session, case: Case, now: datetime) -> uuid.UUID | None:
    """The cluster of a new CASE (not yet stored): that of the cases it may duplicate, whose
    clusters are merged into one; None when it matches none.

    Two statements: the candidates (one UNION of index probes) and, when there are matches,
    one UPDATE moving the matched cases and their clusters' members into the cluster.
    """
    child = case.child
    matches: dict[uuid.UUID, tuple[uuid.UUID | None, datetime]] = {}
    for other_id, cluster_id, created_at, same_child, name in session.execute(
            _candidates(case=case, child=child, now=now)):
        if same_child or names.same_name(name, child.name):
            matches.setdefault(other_id, (cluster_id, created_at))
    if not matches:
        return None
    # the cluster of the earliest match (or that case's id): concurrent reports matching the
    # same cases name the same cluster
    earliest_id, (earliest_cluster, _) = min(
        matches.items(), key=lambda match: (match[1][1], str(match[0])))
    target = earliest_cluster or earliest_id
    loose = [other_id for other_id, (cluster_id, _) in matches.items() if cluster_id is None]
    merged = {cluster_id for cluster_id, _ in matches.values()
              if cluster_id is not None and cluster_id != target}
    if not loose and not merged:
        return target  # every match is in that cluster already
    table = Case.__table__
    # Core, not the ORM: joining a cluster is no new version of the other cases (their row
    # versions and updated_at stay; their ETags change with what they show)
    session.execute(
        update(table)
        .where(or_(table.c.id.in_(loose), table.c.duplicate_cluster_id.in_(merged)))
        .values(duplicate_cluster_id=target, updated_at=table.c.updated_at))
    return target


def _candidates(*, case: Case, child: Child, now: datetime):
    """Open cases of the last 90 days in CASE's city that may be about CHILD: one UNION ALL
    of probes, each served by an index (cases.child_id; children.nik_hash;
    children (village_code, birth_date)). Rows: id, cluster, created_at, same_child, name."""

    def probe(condition, same_child: bool):
        return (
            select(Case.id, Case.duplicate_cluster_id, Case.created_at,
                   literal(1 if same_child else 0).label("same_child"), Child.name)
            .join(Child, Case.child_id == Child.id)
            .where(condition, Case.id != case.id, Case.status != CaseStatus.CLOSED,
                   Case.created_at >= now - DUPLICATE_WINDOW,
                   # the city's own office deals with its duplicates; no link leaves the city
                   within_prefix(Case.village_code, region_codes.city_of(case.village_code))))

    probes = []
    if child.id is not None:
        probes.append(probe(Case.child_id == child.id, True))
    if child.nik_hash:
        probes.append(probe(Child.id.in_(select(Child.id).where(
            Child.nik_hash == child.nik_hash, Child.id != child.id)), True))
    # the names are compared in Python, as people write them, alike on every database
    probes.append(probe(and_(Child.village_code == case.village_code,
                             Child.birth_date == child.birth_date,
                             Case.village_code == case.village_code,
                             *([Child.id != child.id] if child.id is not None else [])),
                        False))
    return union_all(*probes)


def shown_to(*, session: Session, principal: Principal, cases: list[Case]
             ) -> dict[uuid.UUID, ShownDuplicates]:
    """What each of CASES (a page, or one) shows PRINCIPAL of its cluster; two statements
    whatever the clusters' sizes, none for cases that are alone."""
    shown = {case.id: ShownDuplicates([], 0) for case in cases}
    clustered = [case for case in cases if case.duplicate_cluster_id is not None]
    if not clustered:
        return shown
    dismissed: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    dismissed_in_areas: dict[uuid.UUID, int] = defaultdict(int)
    for case_id, other_id, village_code in session.execute(
            select(DuplicateDismissal.case_id, DuplicateDismissal.other_case_id,
                   Case.village_code)
            .join(Case, Case.id == DuplicateDismissal.other_case_id)
            .where(DuplicateDismissal.case_id.in_([case.id for case in clustered]))):
        dismissed[case_id].add(other_id)
        dismissed_in_areas[case_id] += in_areas(principal, village_code)
    depth = SHOWN + 1 + max((len(others) for others in dismissed.values()), default=0)
    members_by_cluster = _recent_members(
        session=session, principal=principal, depth=depth,
        clusters={case.duplicate_cluster_id for case in clustered})
    for case in clustered:
        members, size = members_by_cluster.get(case.duplicate_cluster_id, ([], 0))
        links = [_link(case, member) for member in members
                 if member.id != case.id and member.id not in dismissed[case.id]][:SHOWN]
        count = max(size - 1 - dismissed_in_areas[case.id], len(links))
        shown[case.id] = ShownDuplicates(links, count)
    return shown


def _recent_members(*, session: Session, principal: Principal, depth: int,
                    clusters: set[uuid.UUID]) -> dict[uuid.UUID, tuple[list, int]]:
    """The DEPTH most recent members in PRINCIPAL's areas of each of CLUSTERS, and how many
    members in those areas each has: one statement on ix_cases_duplicate_cluster_id_created_at."""
    in_cluster = Case.duplicate_cluster_id
    ranked = (
        select(Case.id, Case.reference, Case.village_code, Case.child_id,
               Child.nik_hash, in_cluster.label("cluster_id"),
               func.row_number().over(partition_by=in_cluster,
                                      order_by=(Case.created_at.desc(), Case.id.desc())
                                      ).label("rank"),
               func.count().over(partition_by=in_cluster).label("size"))
        .join(Child, Case.child_id == Child.id)
        .where(in_cluster.in_(clusters), within_areas(Case.village_code, principal.area_codes))
        .subquery())
    members: dict[uuid.UUID, tuple[list, int]] = {}
    for row in session.execute(select(ranked).where(ranked.c.rank <= depth)
                               .order_by(ranked.c.cluster_id, ranked.c.rank)):
        members.setdefault(row.cluster_id, ([], row.size))[0].append(row)
    return members


def _link(case: Case, member) -> dict:
    same_child = member.child_id == case.child_id or (
        member.nik_hash is not None and member.nik_hash == case.child.nik_hash)
    return {"id": member.id, "reference": member.reference,
            "reason": SAME_CHILD if same_child else SAME_CHILD_AND_VILLAGE,
            "village_code": member.village_code}


def is_shown(*, session: Session, principal: Principal, case: Case,
             other_id: uuid.UUID) -> bool:
    """Whether OTHER_ID is a possible duplicate of CASE that PRINCIPAL may decide on: in its
    cluster, in the caller's areas, and not dismissed already."""
    if case.duplicate_cluster_id is None or other_id == case.id:
        return False
    return session.scalar(
        select(Case.id).where(
            Case.id == other_id, Case.duplicate_cluster_id == case.duplicate_cluster_id,
            within_areas(Case.village_code, principal.area_codes),
            ~select(DuplicateDismissal.case_id).where(
                DuplicateDismissal.case_id == case.id,
                DuplicateDismissal.other_case_id == other_id).exists())) is not None


def dismiss(*, session: Session, case_id: uuid.UUID, other_id: uuid.UUID,
            principal: Principal, now: datetime) -> None:
    """Show the pair no more, from either side."""
    session.add_all([
        DuplicateDismissal(case_id=case_id, other_case_id=other_id, decided_at=now,
                           decided_by=principal.user_id),
        DuplicateDismissal(case_id=other_id, other_case_id=case_id, decided_at=now,
                           decided_by=principal.user_id)])


# where a case keeps what it shows for the rest of the request (an attribute of the instance,
# not a column): the ETag and the answer read the same, loaded once
_SHOWN_ATTRIBUTE = "shown_duplicates"


def load_shown(*, session: Session, principal: Principal, cases: list[Case]) -> None:
    """Load, in two statements for all of CASES, what each shows PRINCIPAL of its cluster
    (read as `case.shown_duplicates`), unless already loaded."""
    missing = [case for case in cases if _SHOWN_ATTRIBUTE not in vars(case)]
    if missing:
        shown = shown_to(session=session, principal=principal, cases=missing)
        for case in missing:
            setattr(case, _SHOWN_ATTRIBUTE, shown[case.id])


def forget_shown(case: Case) -> None:
    """CASE's cluster or dismissals changed: what it shows is loaded again when next read."""
    vars(case).pop(_SHOWN_ATTRIBUTE, None)
