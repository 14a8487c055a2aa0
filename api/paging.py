"""Keyset paging of lists (DESIGN §3): every page, the first or the ten-thousandth, costs one
indexed range read of size + 1 rows — `WHERE (sort keys) < (the last row's keys) ORDER BY
… LIMIT size + 1` — never an OFFSET, and never a COUNT unless the caller asks for the total.

A list is a SQLAlchemy Select ordered by its sort keys, the last of which is unique (an id),
so that the keys of a row tell exactly where the next page starts. Its cursor is opaque:
sealed (api/crypto.py), so it can be neither read nor forged, and bound to its owner and to
the list it came from (the list's name, filters and sort), so that replaying it by someone
else, or with other filters, is refused (InvalidInput on `cursor`, a 422) instead of
silently answering rows of another list. Used by the API (api/rest.py `Blueprint.keyset`)
and by the web console alike.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from api import crypto
from api.errors import InvalidInput

CURSOR_PROBLEM = ("Not a cursor of this list: pass back the next_cursor of your previous page "
                  "with the same filters and sort, or none to start.")


@dataclass(frozen=True)
class Page:
    """One page of a list: its ROWS (ORM objects, in order), the cursor of the next page
    (None on the last), and the number of rows in the whole list when it was asked for."""

    rows: list
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True)
class SortKey:
    """One key of a list's order: an SQL expression and its direction."""

    expression: object
    descending: bool


def sort_keys(query: Select) -> list[SortKey]:
    """The keys QUERY is ordered by, in order (ValueError when it is not ordered, or ordered
    with NULLS FIRST/LAST: a key must never be NULL, or rows after it could not be found)."""
    keys = []
    for clause in query._order_by_clauses:  # noqa: SLF001 -- SQLAlchemy keeps no public accessor
        if isinstance(clause, UnaryExpression) and clause.modifier in (operators.desc_op,
                                                                     operators.asc_op):
            keys.append(SortKey(clause.element, clause.modifier is operators.desc_op))
        elif isinstance(clause, UnaryExpression) and clause.modifier is not None:
            raise ValueError(f"unsupported ordering for keyset paging: {clause}")
        else:
            keys.append(SortKey(clause, False))
    if not keys:
        raise ValueError("a keyset-paged list must be ordered, ending with a unique key")
    return keys


def keyset_page(session: Session, query: Select, *, cursor: str | None, size: int, owner,
                binding=None, with_total: bool = False, offset: int = 0) -> Page:
    """The page of QUERY (an ordered Select, last key unique) after CURSOR, SIZE rows long.

    OWNER (e.g. the caller's user id) and BINDING (anything JSON-able naming the list: its
    name, filters, sort) are sealed into the next cursor and checked on the way back:
    InvalidInput({"cursor": …}) for a cursor not sealed here, changed, of another owner or of
    another list. WITH_TOTAL adds one COUNT of the whole list. OFFSET skips rows after the
    cursor: only for clients still paging by page number (it costs what it skips).
    """
    keys = sort_keys(query)
    seal = _binding_digest(owner, binding)
    paged = query
    if cursor is not None:
        paged = paged.where(_after(keys, _opened(cursor, seal, keys)))
    width = len(query.column_descriptions)  # entities and columns selected, not their keys
    paged = paged.add_columns(*(key.expression.label(f"keyset_{index}")
                                for index, key in enumerate(keys)))
    paged = paged.offset(offset or None).limit(size + 1)
    fetched = session.execute(paged).all()
    more = len(fetched) > size
    fetched = fetched[:size]
    rows = [row[0] if width == 1 else tuple(row[:width]) for row in fetched]
    next_cursor = _sealed(seal, list(fetched[-1][width:])) if more else None
    total = None
    if with_total:
        total = session.scalar(select(func.count()).select_from(
            query.order_by(None).subquery()))
    return Page(rows=rows, next_cursor=next_cursor, total=total)


def _after(keys: Sequence[SortKey], values: list):
    """SQL condition: the row comes after VALUES in the order of KEYS."""
    bound = [literal(value, type_=key.expression.type) for key, value in zip(keys, values,
                                                                           strict=True)]
    if len({key.descending for key in keys}) == 1:
        # one direction: a row-value comparison, which a B-tree index on the keys answers
        # as a range (PostgreSQL, SQLite ≥ 3.15)
        left, right = tuple_(*(key.expression for key in keys)), tuple_(*bound)
        return left < right if keys[0].descending else left > right
    alternatives = []
    for index, key in enumerate(keys):
        equal = [keys[i].expression == bound[i] for i in range(index)]
        beyond = key.expression < bound[index] if key.descending else \
            key.expression > bound[index]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def _binding_digest(owner, binding) -> str:
    text = json.dumps([str(owner), binding], sort_keys=True, default=str,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _sealed(seal: str, values: list) -> str:
    return crypto.sealed(json.dumps([seal, [_encoded(value) for value in values]],
                                    separators=(",", ":")))


def _opened(cursor: str, seal: str, keys: Sequence[SortKey]) -> list:
    try:
        binding, values = json.loads(crypto.opened(cursor) or "null")
        if binding != seal or len(values) != len(keys):
            raise ValueError("another list's cursor")
        return [_decoded(value) for value in values]
    except (TypeError, ValueError):
        raise InvalidInput({"cursor": [CURSOR_PROBLEM]}) from None


# a key's value in the cursor, tagged with its type so it binds back exactly as read
_ENCODERS = (
    (bool, "b", lambda value: value),
    (int, "i", lambda value: value),
    (datetime, "t", datetime.isoformat),
    (date, "d", date.isoformat),
    (uuid.UUID, "u", str),
    (Decimal, "n", str),
    (str, "s", lambda value: value),
)
_DECODERS = {"b": bool, "i": int, "t": datetime.fromisoformat, "d": date.fromisoformat,
             "u": uuid.UUID, "n": Decimal, "s": str}


def _encoded(value) -> list:
    if hasattr(value, "value") and not isinstance(value, (datetime, date)):
        value = value.value  # a code (enum): stored as its value
    for kind, tag, encode in _ENCODERS:
        if isinstance(value, kind):
            return [tag, encode(value)]
    raise TypeError(f"a sort key of type {type(value).__name__} cannot go into a cursor")


def _decoded(value: list):
    tag, text = value
    return _DECODERS[tag](text)
