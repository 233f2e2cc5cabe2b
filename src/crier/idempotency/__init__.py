"""Idempotency-Key for every POST of /v1 (CONTRACT §3)."""
