"""Whether an account can publish in a mode (CONTRACT §6). Shared by the account listing and publishing."""

from __future__ import annotations

from typing import Any, Protocol

from crier.core.vocabulary import Mode, Platform

MANAGED_TEMPLATE_ID = "af058068-ad85-4fb8-92a1-f531b40bfcbc"


class AccountFacts(Protocol):
    """What readiness reads of an account: a SocialAccount, or a publish-path row with its columns."""

    @property
    def status(self) -> str: ...
    @property
    def platform(self) -> str: ...
    @property
    def granted_scopes(self) -> list[str]: ...
    @property
    def instagram_account_type(self) -> str | None: ...


class LayerFacts(Protocol):
    """What readiness reads of an account's layer: a Layer, or the publish path's LayerView."""

    @property
    def template_id(self) -> str: ...
    @property
    def config(self) -> dict[str, Any] | None: ...


def is_ready(account: AccountFacts, mode: str, layer: LayerFacts | None) -> bool:
    if account.status != "connected":
        return False
    if mode == Mode.PUBLISH:
        if account.platform == Platform.TIKTOK:
            return "video.publish" in account.granted_scopes
        return account.instagram_account_type is not None
    if mode == Mode.DRAFT:
        # Instagram drafts are an SMS to the operator; a missing phone fails at publish time, not here.
        return account.platform == Platform.INSTAGRAM or "video.upload" in account.granted_scopes
    if mode == Mode.MANAGED:
        return (
            layer is not None
            and layer.template_id == MANAGED_TEMPLATE_ID
            and bool((layer.config or {}).get("provider"))
        )
    return False


def readiness(account: AccountFacts, layer: LayerFacts | None) -> dict[str, bool]:
    return {mode: is_ready(account, mode, layer) for mode in Mode}
