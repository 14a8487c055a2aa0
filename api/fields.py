"""marshmallow fields shared by every domain's schemas: strict on the way in, UTC out."""

import re
from datetime import UTC, date

import marshmallow as ma

from api.regions import calendar

# C0 control characters but tab, line feed and carriage return; NUL breaks PostgreSQL text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UtcTimestamp(ma.fields.DateTime):
    """An ISO 8601 UTC timestamp written with a Z (2026-01-31T08:00:00Z)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Derived(ma.fields.Nested):
    """A read-only nested object computed from the object being dumped: FUNCTION(obj) gives
    what the NESTED schema dumps (or None). Unlike a Function field, the OpenAPI document
    names its schema, so generated clients get a typed object."""

    def __init__(self, nested, function, **kwargs):
        super().__init__(nested, dump_only=True, **kwargs)
        self.function = function

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return self.function(obj)


class Text(ma.fields.String):
    """Text from a person: no control characters, no broken UTF-16, not blank, trimmed."""

    def __init__(self, *, validate=None, **kwargs):
        # "not blank", documented as minLength 1 by apispec; as a validator rather than
        # metadata, so that a Length(min=2) of the field's own is documented as 2
        validators = [] if validate is None else [validate] if callable(validate) else validate
        super().__init__(validate=[ma.validate.Length(min=1), *validators], **kwargs)

    default_error_messages = {
        "control": "Must not contain control characters.",
        "encoding": "Must be valid Unicode text.",
        "blank": "Must not be blank.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("encoding") from None
        if _CONTROL.search(text):
            raise self.make_error("control")
        text = text.strip()
        if not text:
            raise self.make_error("blank")
        return text


class Flag(ma.fields.Boolean):
    """A JSON true or false, nothing else ("yes", 1 and "on" are refused)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # 1 == True in Python: check the type itself
            raise self.make_error("invalid", input=value)
        return value


class Count(ma.fields.Integer):
    """A JSON integer (no strings, no fractions)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class Day(ma.fields.Date):
    """A calendar day written YYYY-MM-DD, between 1900 and 2999."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise self.make_error("invalid")
        day = super()._deserialize(value, attr, data, **kwargs)
        if not 1900 <= day.year <= 2999:
            raise self.make_error("invalid")
        return day


class Pattern(ma.validate.Regexp):
    """A regular expression the whole value must match.

    Written with ^…$ as OpenAPI (ECMA-262) reads it; checked with fullmatch, so neither a
    trailing newline (which $ tolerates in Python) nor a prefix slips through.
    """

    def __init__(self, pattern: str, *, error: str):
        super().__init__(pattern, error=error)

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


def digits(minimum: int, maximum: int, error: str) -> Pattern:
    """ASCII digits only (\\d would admit other scripts' digits), whole value."""
    return Pattern(rf"^[0-9]{{{minimum},{maximum}}}$", error=error)


class StrictSchema(ma.Schema):
    """An input schema: unknown fields are refused, not ignored (mass assignment)."""

    class Meta:
        unknown = ma.RAISE


def code(codes, **kwargs) -> ma.fields.Enum:
    """A field holding one code of the vocabulary CODES, written as its value."""
    return ma.fields.Enum(codes, by_value=True, **kwargs)


UNIQUE_ITEMS = {"uniqueItems": True}  # documents `unique` in the OpenAPI schema


def unique(values) -> None:
    """Validator: each value of a list at most once."""
    if len(set(values)) != len(values):
        raise ma.ValidationError("Each value may appear once.")


def not_after_today_anywhere(value: date) -> None:
    """Validator: not after today in Indonesia's latest zone (WIT). The exact rule, in the
    calendar of the record's kelurahan (regions/calendar.py), is checked where the kelurahan
    is known; this one names a date in the future with the other bad fields at once."""
    if value > calendar.today_anywhere():
        raise ma.ValidationError("Must not be in the future.")
