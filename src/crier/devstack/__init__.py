"""Embedded PostgreSQL and Redis for `make dev` and `make test` when no servers are configured."""
