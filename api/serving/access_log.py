"""gunicorn's logger, writing JSON lines (api/observability/logs.py).

The access log line of a request: `message` ("GET /api/v1/cases/<uuid:case_id> 200"),
`method`, `route` (the route template, `unmatched` for a path no route knows), `path` (the
path without its query string, matched routes only: their variable parts are ids), `status`,
`bytes`, `duration_ms`, `request_id` (as echoed in X-Request-ID). No query string (a search
may hold a child's name), no client address (the audit trail keeps it, access-controlled)."""

import logging

from gunicorn import glogging

from api.observability import ROUTE_ENVIRON_KEY
from api.observability.logs import RequestIdFilter, UtcJsonFormatter, configure_root
from api.observability.request_ids import HEADER


class JsonLogger(glogging.Logger):
    """gunicorn's error and access logs, and the application's log records, as JSON lines."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(UtcJsonFormatter())
                if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                    handler.addFilter(RequestIdFilter())
        configure_root(self.loglevel)
        logging.captureWarnings(True)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        route = environ.get(ROUTE_ENVIRON_KEY, "unmatched")
        status = int(str(resp.status).split(None, 1)[0]) if resp.status else None
        fields = {
            "method": req.method, "route": route, "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": next((value for name, value in resp.headers
                                if name.lower() == HEADER.lower()), None),
        }
        if route != "unmatched":
            fields["path"] = req.path
        try:
            self.access_log.info("%s %s %s", req.method, route, status, extra=fields)
        except Exception:  # a broken log line must not break the answer
            self.exception("access log line failed")
