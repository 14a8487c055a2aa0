"""An account that logs in with a password, for the login and session tests."""

import uuid

import pytest

from api.auth import service
from tests.conftest import MANGGAR

PASSWORD = "kata-sandi-yang-panjang"


@pytest.fixture
def password_user(session):
    """An RT head of Manggar whose password is PASSWORD."""
    user = service.create_user(session=session, username=f"rt-{uuid.uuid4().hex[:6]}",
                               role="rt_head", area_codes=[MANGGAR], password=PASSWORD)
    session.commit()
    return user
