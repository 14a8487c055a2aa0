"""The `idempotent` decorator for creating POST views."""

import hashlib
import json
from functools import wraps

from flask import Response, current_app, g, request

from api.auth.bearer import current_principal
from api.db import get_session, utcnow
from api.errors import Conflict, InvalidInput
from api.idempotency import service
from api.idempotency.service import ClaimOutcome
from api.observability import metrics

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "Send the same key to retry safely: the first response is replayed "
                   "(header Idempotent-Replayed: true) for at least 24 hours. Keys are per user.",
}


def request_fingerprint() -> str:
    """A hash of what the request asks for; JSON bodies compare by content, not layout."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(), body)
                          ).hexdigest()


def _replay(record) -> Response:
    response = Response(record.response_body, status=record.response_status)
    for name, value in record.response_headers or []:
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Honour Idempotency-Key on a creating POST (DESIGN §3)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
            raise InvalidInput({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable characters."]})
        principal = current_principal()
        session = get_session()
        now, ttl = utcnow(), current_app.config["IDEMPOTENCY_TTL"]
        service.purge_expired(session=session, now=now, ttl=ttl)
        claim = service.claim_key(
            session=session, user_id=principal.user_id, key=key,
            fingerprint=request_fingerprint(), now=now, ttl=ttl,
            claim_timeout=current_app.config["IDEMPOTENCY_CLAIM_TIMEOUT"],
        )
        if claim.outcome is ClaimOutcome.MISMATCH:
            raise InvalidInput({HEADER: ["This key was used with a different request body."]})
        if claim.outcome is ClaimOutcome.IN_FLIGHT:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        if claim.outcome is ClaimOutcome.REPLAY:
            metrics.count_idempotency_replay()
            return _replay(claim.record)
        # make the claim visible to concurrent requests before doing the work
        session.commit()
        record_id = claim.record.id
        # should the work not be committed after all (db.commit_session), a retry must find
        # the key free, not "in flight" until the claim times out
        g.setdefault("on_failed_commit", []).append(lambda: _release(record_id))
        try:
            response = view(*args, **kwargs)
        except BaseException:
            _release(record_id)
            raise
        if 200 <= response.status_code < 300:
            headers = [(n, response.headers[n]) for n in REPLAYED_HEADERS if n in response.headers]
            service.record_response(session=session, record_id=record_id,
                                    status=response.status_code,
                                    body=response.get_data(as_text=True), headers=headers)
        else:
            _release(record_id)
        return response

    return wrapper


def _release(record_id) -> None:
    session = get_session()
    session.rollback()
    service.release_claim(session=session, record_id=record_id)
    session.commit()
