"""Users, their areas, their API tokens (stored only as SHA-256), and the login counters."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.crypto import EncryptedString
from api.db import Base, UtcDateTime, code_enum, created_at_column, uuid_pk
from api.vocabularies.codes import Role


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(code_enum(Role, "user_role"))
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()
    # where alerts reach the user (DESIGN §8), encrypted at rest as identity numbers are
    email: Mapped[str | None] = mapped_column(EncryptedString, default=None)
    phone: Mapped[str | None] = mapped_column(EncryptedString, default=None)
    # the language of the user's alerts: "id" (Bahasa Indonesia) or "en"
    language: Mapped[str] = mapped_column(String(2), default="id", server_default=text("'id'"))

    areas: Mapped[list["UserArea"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin",
        order_by="UserArea.region_code",
    )

    @property
    def area_codes(self) -> list[str]:
        return [area.region_code for area in self.areas]


class UserArea(Base):
    """A region (any level) in which a user works."""

    __tablename__ = "user_areas"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="areas")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # issued by a password login: it also ends after LINDUNG_SESSION_IDLE_HOURS unused
    is_session: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # recorded at most once per service.USE_RECORDED_EVERY, so reads stay reads
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

    user: Mapped[User] = relationship(lazy="joined")


class RateLimitCounter(Base):
    """One fixed window of a rate limit (auth/limits.py): how many hits KEY had in it."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
