"""The answers of the health probes."""

import marshmallow as ma


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, or degraded"})
    database = ma.fields.String(metadata={"description": "ok, or unreachable"})
    version = ma.fields.String()


class LivenessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "alive"})
    version = ma.fields.String()


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ready, or not_ready"})
    database = ma.fields.String(metadata={"description": "ok, or unreachable"})
    schema = ma.fields.String(metadata={
        "description": "current (at the newest migration); behind (run `lindung db upgrade`); "
                       "newer (migrated by a newer release than this process); unknown (the "
                       "database was not reached)"})
    revisions = ma.fields.List(ma.fields.String(), metadata={
        "description": "The schema revisions the database carries"})
    version = ma.fields.String()
