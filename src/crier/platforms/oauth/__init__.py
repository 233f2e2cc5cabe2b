"""The platforms' OAuth 2.0 authorization-code endpoints (PLATFORMS.md §8): authorize URLs, code
exchange, profile, revoke. Used by the connect flow in crier.accounts; delivery never calls these."""

from crier.platforms.oauth.base import ConnectedIdentity, OAuthFailed

__all__ = ["ConnectedIdentity", "OAuthFailed"]
