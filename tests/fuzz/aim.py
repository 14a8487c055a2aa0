"""Points generated requests at objects that exist, so the fuzzing gets past 404 and 412.

Random UUIDs never name a seeded case, and a random If-Match never matches its ETag: left
alone, every request on an object would stop at the lookup or the precondition. So half of the
schema-valid path ids are swapped for seeded ids, and half of the If-Match headers on an object
the caller can read for its current ETag. Which half follows from the generated value, so the
choice is as deterministic as the generation itself.
"""

import zlib

from schemathesis import Case

from api.vocabularies.codes import Role
from tests.fuzz.world import World


def aim_at_seeded_objects(case: Case, world: World) -> None:
    """Swap half of CASE's valid generated path ids for ids of seeded objects."""
    if _generated_valid(case, "path"):
        for name, value in case.path_parameters.items():
            seeded = world.ids.get(name)
            if seeded and digest(value) % 2 == 0:
                case.path_parameters[name] = seeded[digest(value) // 2 % len(seeded)]


def current_version(case: Case, world: World, role: Role) -> dict:
    """An If-Match header with the current ETag of the object CASE acts on, for half of the
    valid generated If-Match headers; otherwise no header (the generated one stays)."""
    generated = case.headers.get("If-Match") if case.headers else None
    if generated is None or not _generated_valid(case, "header") or digest(generated) % 2:
        return {}
    # /cases/{case_id}/triage acts on /cases/{case_id}
    depth = case.path[: case.path.index("}") + 1].count("/")
    resource = "/".join(case.formatted_path.split("/")[: depth + 1])
    answer = world.app.test_client().get(resource, headers=world.headers(role))
    return {"If-Match": answer.headers["ETag"]} if answer.status_code == 200 else {}


def _generated_valid(case: Case, location: str) -> bool:
    # a negative value must stay negative: making it valid would turn the rejection the
    # negative check expects into a success it reports as a failure
    component = case.meta.components.get(location) if case.meta is not None else None
    return component is not None and component.mode.is_positive


def digest(value) -> int:
    """A stable number for a generated value (hash() changes between runs)."""
    return zlib.crc32(repr(value).encode("utf-8", "surrogatepass"))
