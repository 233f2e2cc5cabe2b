"""Turn a claimed post's rows into the DeliveryJob an adapter works from."""

from __future__ import annotations

from crier.core import crypto
from crier.core.vocabulary import Mode, Platform
from crier.delivery.repository import DeliveryRows
from crier.models import Layer, SocialAccount
from crier.platforms.base import AccountCredentials, DeliveryJob, ManagedProvider


def build_job(*, rows: DeliveryRows, fence: int) -> DeliveryJob:
    """Resolve overrides, platform-specific fields, the music link and the credentials."""
    post, container = rows.post, rows.container
    instagram = post.platform == Platform.INSTAGRAM
    music = None
    if not instagram and post.tiktok_music:
        music = dict(post.tiktok_music)
        if rows.music_link:
            music["link"] = rows.music_link
    organization = rows.organization
    return DeliveryJob(
        post_id=post.id,
        platform=Platform(post.platform),
        mode=Mode(post.mode),
        media_type=container.media_type,
        media_urls=[str(item["url"]) for item in container.media or [] if item.get("url")],
        # An override is used whenever the partner sent one, even an empty one ("no caption here").
        caption=post.caption_override if post.caption_override is not None else (container.caption or ""),
        first_comment=(
            post.first_comment_override
            if post.first_comment_override is not None
            else container.first_comment
        ),
        tiktok_post_settings={} if instagram else dict(post.tiktok_post_settings or {}),
        tiktok_music=music,
        share_reel_to_feed=post.share_reel_to_feed if instagram else None,
        account=credentials(account=rows.account),
        managed_provider=managed_provider(layer=rows.layer) if post.mode == Mode.MANAGED else None,
        # An unverified phone is as good as none: the SMS would go to someone unconfirmed.
        operator_phone=(
            organization.primary_operator_phone if organization.primary_operator_phone_verified else None
        ),
        fence=fence,
    )


def credentials(*, account: SocialAccount) -> AccountCredentials:
    """The account with its tokens decrypted (kept in memory only for the step)."""
    return AccountCredentials(
        social_account_id=account.id,
        platform=Platform(account.platform),
        handle=account.handle,
        external_account_id=account.external_account_id,
        access_token=crypto.decrypt(account.access_token_encrypted),
        refresh_token=(
            crypto.decrypt(account.refresh_token_encrypted) if account.refresh_token_encrypted else None
        ),
        token_expires_at=account.token_expires_at,
        granted_scopes=list(account.granted_scopes or []),
        instagram_account_type=account.instagram_account_type,
    )


def managed_provider(*, layer: Layer | None) -> ManagedProvider | None:
    """The layer's provider, or None when the account has no configured managed layer."""
    if layer is None:
        return None
    config = layer.config or {}
    if not config.get("provider") or not config.get("baseUrl") or not layer.signing_secret_encrypted:
        return None
    return ManagedProvider(
        provider=str(config["provider"]),
        base_url=str(config["baseUrl"]).rstrip("/"),
        signing_secret=crypto.decrypt(layer.signing_secret_encrypted),
    )
