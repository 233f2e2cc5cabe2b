"""Fixtures of the connect flow (tests/support/oauth.py)."""

from tests.support.oauth import partner, sandbox  # noqa: F401
