"""SQL building blocks that several repositories share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam
from sqlalchemy.sql.elements import ColumnElement


def any_of(values: Iterable[str]) -> ColumnElement[Any]:
    """`= ANY(:array)`: one bound array, one statement plan, whatever the batch size."""
    return any_(bindparam(None, list(values), type_=ARRAY(Text)))


def any_param(name: str) -> ColumnElement[Any]:
    """`= ANY(:name)` for a statement built once: the text array is passed at execution as `name`."""
    return any_(bindparam(name, type_=ARRAY(Text)))
