"""The vocabulary spells each word once: the constraints, the wire and the database agree with it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import CheckConstraint, Index

from crier.core.vocabulary import Mode, Platform, PostStatus, sql_in
from crier.models import Base

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def test_every_check_constraint_is_spelled_as_the_migrations_created_it():
    # Autogenerate does not compare CHECK constraints, so this is what keeps a model's constraint,
    # now built from the vocabulary, from drifting away from the database's.
    migrations = "\n".join(path.read_text() for path in MIGRATIONS.glob("*.py"))
    checks = [
        str(constraint.sqltext)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    ]

    assert checks
    assert [check for check in checks if check not in migrations] == []


def test_the_due_scan_index_is_spelled_as_the_migrations_created_it():
    migrations = "\n".join(path.read_text() for path in MIGRATIONS.glob("*.py"))
    [index] = [
        index
        for index in Base.metadata.tables["scheduled_posts"].indexes
        if isinstance(index, Index) and index.name == "ix_scheduled_posts_due"
    ]

    assert str(index.dialect_options["postgresql"]["where"]) in migrations


def test_the_words_are_the_strings_the_database_and_the_wire_use():
    assert sql_in("mode", Mode) == "mode IN ('publish', 'draft', 'managed')"
    assert sql_in("platform", Platform) == "platform IN ('tiktok', 'instagram')"
    assert list(PostStatus) == [
        "blocked_on_approval",
        "scheduled",
        "publishing",
        "published",
        "draft",
        "failed",
        "canceled",
    ]
    assert f"{PostStatus.PUBLISHING}" == "publishing"
