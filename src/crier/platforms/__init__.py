"""Platform adapters: each turns a post into platform calls and classifies every answer."""

from crier.platforms.base import (
    AccountCredentials,
    DeliveryJob,
    DeliveryStore,
    ManagedProvider,
    Outcome,
    OutcomeKind,
    PlatformAdapter,
    PlatformError,
)
from crier.platforms.http import create_http_client
from crier.platforms.registry import adapter_for

__all__ = [
    "AccountCredentials",
    "DeliveryJob",
    "DeliveryStore",
    "ManagedProvider",
    "Outcome",
    "OutcomeKind",
    "PlatformAdapter",
    "PlatformError",
    "adapter_for",
    "create_http_client",
]
