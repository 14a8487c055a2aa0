"""The bare baseline of bench/load.py: the least a flask-smorest + SQLAlchemy + psycopg service
on PostgreSQL does per request, measured in the same run and under the same gunicorn settings
as Lindung, so that the product's figures read as a ratio to what this machine can do at all.

Two endpoints on one table of BASELINE_ROWS rows (`items`, made by bench/load.py):

    POST /items        {"name": "...", "village_code": "6471011001"}  → 201, the stored row
    GET  /items/<id>   → 200, one row by primary key (404 when absent)

No authentication, no audit, no idempotency: everything the product adds on top is what the
ratio shows. Served by gunicorn with the product's settings:

    BASELINE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_load_baseline \\
        gunicorn -c python:api.serving.gunicorn_conf 'baseline_app:create_app()'
"""

import os
import uuid
from datetime import UTC, datetime

import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint, abort
from sqlalchemy import DateTime, String, Uuid, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

TABLE = "items"


class Base(DeclarativeBase):
    pass


class Item(Base):
    """One row of the baseline table: a uuid key and two short columns, like a small case."""

    __tablename__ = TABLE
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    village_code: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 default=lambda: datetime.now(UTC))


class ItemInputSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    village_code = ma.fields.String(required=True,
                                    validate=ma.validate.Regexp(r"^[0-9]{10}$"))


class ItemSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    village_code = ma.fields.String()
    created_at = ma.fields.DateTime()


blp = Blueprint("items", __name__, url_prefix="/items")


@blp.route("")
class Items(MethodView):
    @blp.arguments(ItemInputSchema)
    @blp.response(201, ItemSchema)
    def post(self, data):
        with Sessions() as session, session.begin():
            item = Item(**data)
            session.add(item)
            session.flush()
            return item


@blp.route("/<uuid:item_id>")
class ItemById(MethodView):
    @blp.response(200, ItemSchema)
    def get(self, item_id):
        with Sessions() as session:
            item = session.get(Item, item_id)
            if item is None:
                abort(404)
            return item


Sessions = sessionmaker(expire_on_commit=False)


def create_app() -> Flask:
    """The baseline application on BASELINE_DATABASE_URL; the pool as the product's
    (api/db.py: SQLAlchemy's default 5 + 10 overflow, pinged before use)."""
    app = Flask(__name__)
    app.config.update(API_TITLE="baseline", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
    Sessions.configure(bind=create_engine(os.environ["BASELINE_DATABASE_URL"],
                                          pool_pre_ping=True, hide_parameters=True))
    api = Api(app)
    api.register_blueprint(blp)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app
