"""Serving the API in production: gunicorn with the settings of gunicorn_conf.py."""

from types import ModuleType

from gunicorn.app.base import BaseApplication


def settings_of(module: ModuleType) -> dict:
    """The gunicorn settings a config MODULE defines (its lowercase names gunicorn knows)."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {setting.name for setting in KNOWN_SETTINGS}
    return {name: value for name, value in vars(module).items() if name in known}


class Server(BaseApplication):
    """gunicorn serving `api.create_app()` with api/serving/gunicorn_conf.py, OVERRIDES
    (setting → value, from the command line) on top."""

    def __init__(self, overrides: dict | None = None):
        self.overrides = overrides or {}
        super().__init__()

    def load_config(self):
        from api.serving import gunicorn_conf

        for name, value in {**settings_of(gunicorn_conf), **self.overrides}.items():
            self.cfg.set(name, value)

    def load(self):
        from api import create_app

        return create_app()
