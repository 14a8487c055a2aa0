"""The agency table."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api.crypto import EncryptedString
from api.db import Base, JsonList, UtcDateTime, created_at_column, updated_at_column


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    services: Mapped[list[str]] = mapped_column(JsonList, default=list)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    # the agency's webhook endpoint (DESIGN §7): the secret signs, and is never shown again
    webhook_url: Mapped[str | None] = mapped_column(String(500), default=None)
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedString, default=None)
    # set when a delivery exhausted its retries; cleared by the next success
    webhook_failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
