"""Audit payloads."""

import marshmallow as ma
from flask import g

from api.auth.policy import sees_search_terms
from api.fields import Text, UtcTimestamp

SEARCH_TERMS = ("q",)


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    at = UtcTimestamp()
    actor_id = ma.fields.UUID(allow_none=True)
    actor_role = ma.fields.String(allow_none=True)
    agency = ma.fields.String(allow_none=True)
    action = ma.fields.String(metadata={"description": "case.read, case.create, export, "
                                                       "auth.denied, …"})
    subject_type = ma.fields.String(allow_none=True)
    subject_id = ma.fields.String(allow_none=True)
    outcome = ma.fields.String()
    request_id = ma.fields.String(allow_none=True)
    client_ip = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()
    seq = ma.fields.Integer(allow_none=True, metadata={
        "description": "The event's place in the hash chain; null until it is sealed, "
                       "shortly after the request that made it"})
    prev_hash = ma.fields.String(allow_none=True)
    hash = ma.fields.String(allow_none=True, metadata={
        "description": "HMAC-SHA256 over prev_hash and the event, keyed with the audit key; "
                       "null until sealed"})

    @ma.post_dump
    def withhold_search_terms(self, event, **kwargs):
        details = event.get("details")
        if details and not sees_search_terms(g.grant.principal.role):
            event["details"] = {key: "withheld" if key in SEARCH_TERMS else value
                                for key, value in details.items()}
        return event

    @ma.post_dump
    def count_what_a_list_showed(self, event, **kwargs):
        # the ids a list answer showed may lie outside the reader's areas: the reader learns
        # how many of each kind; the ids stay in the chain and the access-log index
        details = event.get("details")
        if details and isinstance(details.get("shown"), dict):
            event["details"] = {**details, "shown": {
                kind: len(ids) for kind, ids in details["shown"].items()}}
        return event


class AuditQuerySchema(ma.Schema):
    actor_id = ma.fields.UUID()
    subject_id = Text()
    action = Text()
    from_ = ma.fields.AwareDateTime(data_key="from")
    to = ma.fields.AwareDateTime()
