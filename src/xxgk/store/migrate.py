"""Bring a database to the newest schema (Alembic, run from code: no alembic.ini to carry around)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("xxgk.store").joinpath("migrations")))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
