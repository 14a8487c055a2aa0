"""marshmallow fields shared by every domain's schemas."""

from datetime import UTC

import marshmallow as ma


class UtcTimestamp(ma.fields.DateTime):
    """An ISO 8601 UTC timestamp written with a Z (2026-01-31T08:00:00Z)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def strict_schema_meta():
    """Meta for input schemas: unknown fields are refused (mass assignment)."""
    return type("Meta", (), {"unknown": ma.RAISE})
