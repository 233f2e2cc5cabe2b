"""Structured (one JSON object per line) logs carrying the request id."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from crier.core.clock import to_wire, utcnow
from crier.core.context import current_request_id

_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": to_wire(utcnow()),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            line["requestId"] = request_id
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in line and key != "request_id":
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings.warn() lines become JSON lines too
    # httpx logs full URLs at INFO, and Instagram URLs can carry access_token: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's `log_config`: its own lines (startup, errors, worker restarts) as JSON on stderr.

    uvicorn applies it in every process it starts, before the app exists, so the supervisor of
    `crier api --workers N` writes JSON too. Access lines come from the app (crier.access), not uvicorn.
    """
    json_handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "crier.core.logging.JsonFormatter"}},
        "handlers": {"json": json_handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["json"], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["json"], "level": level.upper()},
    }
