"""Agency payloads."""

import marshmallow as ma
from marshmallow import validate

from api.fields import UNIQUE_ITEMS, Pattern, Text, UtcTimestamp, unique
from api.vocabularies.codes import Service

AGENCY_CODE = Pattern(r"^[A-Z][A-Z0-9_]{1,31}$",
                              error="Upper-case letters, digits and _, 2-32 characters.")


WEBHOOK_URL = Pattern(r"^https?://[^\s/?#]+[^\s]*$", error="An http:// or https:// URL.")


class AgencySchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    services = ma.fields.List(ma.fields.String())
    created_at = UtcTimestamp()
    updated_at = UtcTimestamp()


class AgencyCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    code = Text(required=True, validate=AGENCY_CODE)
    name = Text(required=True, validate=validate.Length(min=2, max=160))
    services = ma.fields.List(ma.fields.Enum(Service, by_value=True), required=True,
                              validate=[validate.Length(min=1), unique], metadata=UNIQUE_ITEMS)


class AgencyUpdateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = Text(validate=validate.Length(min=2, max=160))
    services = ma.fields.List(ma.fields.Enum(Service, by_value=True),
                              validate=[validate.Length(min=1), unique], metadata=UNIQUE_ITEMS)
    webhook_url = Text(allow_none=True, validate=[validate.Length(max=500), WEBHOOK_URL],
                       metadata={"description": "Where events are POSTed; null removes the "
                                                "endpoint (the agency then polls)"})
    webhook_secret = ma.fields.String(load_only=True, validate=validate.Length(max=100),
                                      metadata={"description": "whsec_ + base64 of 24-64 "
                                                "random bytes; generated when omitted"})


class AgencyWebhookSchema(ma.Schema):
    """The webhook endpoint of an agency (DESIGN §7); the secret is never shown."""

    webhook_url = ma.fields.String(allow_none=True)
    webhook_failing_since = UtcTimestamp(allow_none=True, metadata={
        "description": "Set when a delivery exhausted its retries; cleared by a success"})


class AgencyChangedSchema(AgencySchema, AgencyWebhookSchema):
    """The changed agency. `webhook_secret` appears only when this change generated it:
    store it now, it is never shown again."""

    webhook_secret = ma.fields.String(metadata={
        "description": "The new signing secret (whsec_…), in this one answer only"})


class AgencyDeliveryAttemptSchema(ma.Schema):
    at = UtcTimestamp()
    status_code = ma.fields.Integer(allow_none=True, metadata={
        "description": "The HTTP status the endpoint answered, null when none"})
    error = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Integer()


class AgencyDeliverySchema(ma.Schema):
    """One event on its way to the agency's endpoint, with every attempt."""

    id = ma.fields.Integer()
    webhook_id = ma.fields.String(attribute="message_id", metadata={
        "description": "The webhook-id header, the same on every retry"})
    event_type = ma.fields.String(attribute="event.kind")
    referral_id = ma.fields.UUID(attribute="event.referral_id", allow_none=True)
    status = ma.fields.String(metadata={"description": "pending, delivered or failed"})
    attempt_count = ma.fields.Integer()
    next_attempt_at = UtcTimestamp()
    delivered_at = UtcTimestamp(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = UtcTimestamp()
    attempts = ma.fields.List(ma.fields.Nested(AgencyDeliveryAttemptSchema))
