"""Audit payloads."""

import marshmallow as ma

from api.fields import Text, UtcTimestamp


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
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class AuditQuerySchema(ma.Schema):
    actor_id = ma.fields.UUID()
    subject_id = Text()
    action = Text()
    from_ = ma.fields.AwareDateTime(data_key="from")
    to = ma.fields.AwareDateTime()
