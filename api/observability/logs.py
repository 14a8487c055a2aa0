"""JSON log lines, one object a line, each line of a request carrying its request id.

Fields: `time` (ISO 8601, UTC), `level`, `logger`, `message`, `request_id` (null outside a
request), plus the fields a call adds with `extra=` (the access log's, see
api/serving/access_log.py). Nothing personal belongs in a log line: no names, identity
numbers, narratives or query strings (a search may hold a child's name); ids of records
are allowed."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from api.observability.request_ids import current_request_id

FIELDS = ("asctime", "levelname", "name", "message", "request_id")
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the current request's, or the one the record
    already carries (the access log sets it from the answer's header)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class UtcJsonFormatter(JsonFormatter):
    """A JSON line with FIELDS, timestamps in UTC to the millisecond."""

    def __init__(self):
        super().__init__(list(FIELDS), rename_fields=RENAMED,
                         datefmt="%Y-%m-%dT%H:%M:%S", json_ensure_ascii=False)

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's name)
        import time

        seconds = time.strftime(datefmt or "%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"


def json_handler(stream=None) -> logging.Handler:
    """A handler writing JSON lines with request ids to STREAM (standard error)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(UtcJsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.lindung_json = True
    return handler


def configure_root(level: int | str = logging.INFO, stream=None) -> None:
    """Send the application's log records (the root logger's) as JSON lines to STREAM;
    replaces a handler put there by an earlier call."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "lindung_json", False):
            root.removeHandler(handler)
    root.addHandler(json_handler(stream))
    root.setLevel(level)
