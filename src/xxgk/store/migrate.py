"""Bring a database to the newest schema (Alembic, run from code: no alembic.ini to carry around).

All of it in one transaction that first takes the database's write lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an advisory lock), so a run killed while it makes the schema leaves nothing behind,
and two runs opening a new database at once make it once. A database half made by an older
xxgk (tables but no schema version, and no rows) is made again.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from .models import Base

LOCK = 0x78786B67  # "xxkg": the advisory lock PostgreSQL migrations take


class HalfMadeDatabase(RuntimeError):
    pass


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("xxgk.store").joinpath("migrations")))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = config()
    with engine.connect() as connection:
        connection = connection.execution_options(xxgk_write=True)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK})")
            repair_half_made(connection)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")


def repair_half_made(connection: Connection) -> None:
    """Drop xxgk's tables when they are there without a schema version and hold no rows (a schema
    creation cut short by an older xxgk); refuse, saying so, when such tables hold rows."""
    tables = set(inspect(connection).get_table_names())
    ours = [t for t in Base.metadata.sorted_tables if t.name in tables]
    if not ours:
        return
    if "alembic_version" in tables and connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar():
        return
    # a plain count: the half-made table may lack columns a later migration adds
    full = [t.name for t in ours
            if connection.exec_driver_sql(f'SELECT 1 FROM "{t.name}" LIMIT 1').first() is not None]
    if full:
        raise HalfMadeDatabase(f"{connection.engine.url.render_as_string(hide_password=True)} has xxgk's tables "
                               f"but no schema version, and rows in {', '.join(full)}: it was not made by xxgk; "
                               "give another database")
    for table in reversed(ours):
        table.drop(connection)
