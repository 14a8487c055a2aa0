"""Lindung: case management for child-protection referrals."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lindung")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"


def create_app(config=None, *, bind=None):
    """Build the WSGI application (see api.app.create_app)."""
    from api.app import create_app as _create_app

    return _create_app(config, bind=bind)
