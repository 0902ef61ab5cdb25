"""The database: agencies, source files by content hash, reports per parser version, cells, findings,
and reviewers' decisions on findings (kept apart, so they survive re-parsing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # the fullest form seen
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(200), index=True)  # pairing.agency_key


class Source(Base):
    __tablename__ = "sources"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    added: Mapped[datetime] = mapped_column(DateTime)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("digest", "parser_version"),
                      Index("ix_reports_listed", "latest", "agency_name", "year", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(ForeignKey("sources.digest"), index=True)
    parser_version: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    source_name: Mapped[str] = mapped_column(String(500))
    agency_name: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    template: Mapped[str | None] = mapped_column(String(4))
    published: Mapped[str | None] = mapped_column(String(10))
    posted: Mapped[str | None] = mapped_column(String(10))  # when a web page says it posted the report
    # the one report of its agency and year that pairing uses; a duplicate (another file of the same
    # agency-year, read less fully) is kept with current False
    current: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # the newest parse of its file (the one stored last): what lists and counts show, found by an
    # index with the list's order rather than by grouping every report by file on each page
    latest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    result: Mapped[dict] = mapped_column(JSON, deferred=True)  # the whole parse result, for what has no column
    parsed: Mapped[datetime] = mapped_column(DateTime)
    cells: Mapped[list[Cell]] = relationship(back_populates="report", cascade="all, delete-orphan")
    findings: Mapped[list[Finding]] = relationship(back_populates="report", cascade="all, delete-orphan")
    agency: Mapped[Agency | None] = relationship()


class Cell(Base):
    __tablename__ = "cells"
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    blank: Mapped[bool] = mapped_column(Boolean, default=False)
    inferred: Mapped[str | None] = mapped_column(Text)
    provenance: Mapped[dict | None] = mapped_column(JSON)
    report: Mapped[Report] = relationship(back_populates="cells")


class Finding(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(60), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    cells: Mapped[list] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text)
    report: Mapped[Report] = relationship(back_populates="findings")


class Review(Base):
    """A reviewer's decision on a finding, by source file, rule and cells: re-parsing keeps it."""

    __tablename__ = "reviews"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(60), primary_key=True)
    cells: Mapped[str] = mapped_column(String(2000), primary_key=True)  # the finding's cells joined by ","
    status: Mapped[str] = mapped_column(String(12))  # confirmed | dismissed
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)


class Failure(Base):
    """A file an ingest could not read, so a rerun does not try it again (unless asked)."""

    __tablename__ = "failures"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    parser_version: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    error: Mapped[str] = mapped_column(Text)


class Correction(Base):
    """A reviewer's value for a cell the reader got wrong or left blank, by source file and cell key:
    kept beside the value as read (never over it) and applied again to every parse of the file."""

    __tablename__ = "corrections"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)  # None: the cell is blank (not 0)
    read: Mapped[float | None] = mapped_column(Float)  # the value as read when it was corrected
    who: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)


class ReportReview(Base):
    """A reviewer's status of a report (pending 待审, reviewed 已审, returned 退回) and note, by source
    file: re-parsing keeps it. No row: pending."""

    __tablename__ = "report_reviews"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    who: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime)
