"""The Content-Security-Policy of the web pages, built in one place.

Strict by design: every script, style, image, worker and connection comes from this origin,
no inline script or style runs (the pages carry none), nothing may frame the pages, and forms
post only back here. A report holds a child's name; an injected script could read it.
"""

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'"],
    "manifest-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}

HEADER_VALUE = "; ".join(f"{name} {' '.join(sources)}" for name, sources in POLICY.items())

# sent with every page of the web app beside the policy
SECURITY_HEADERS = {
    "Content-Security-Policy": HEADER_VALUE,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def secure(response):
    """RESPONSE with the policy and the other security headers of the web app."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        # pages carry personal data: no shared or back-button cache keeps them
        response.headers["Cache-Control"] = "no-store"
    return response
