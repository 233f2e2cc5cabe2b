"""The one small protocol every platform adapter speaks.

Delivery knows nothing about TikTok or Instagram: it hands an adapter a `DeliveryJob`
(everything needed to deliver one scheduled post) and a `DeliveryStore` (where the adapter
journals each handle a platform returns, the moment it is returned, and saves what else it
learns: rotated tokens, a dead account, the pacing ledger), and gets back an `Outcome`.

`advance()` is called repeatedly for the same post until the outcome is final. Each call does the
next step that the journal says is still missing, so a crashed attempt resumes from its handles
instead of repeating an irreversible call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from crier.core.vocabulary import Mode, Platform, PostStatus

MediaType = Literal["image", "video", "multi"]


# lastError.code of a post whose account's token died for good (refresh refused, token revoked):
# the account is `reauth_required` and nothing is retried until a reauth (ACCOUNTS.md).
CREDENTIAL_INVALID = "CREDENTIAL_INVALID"


class OutcomeKind(enum.StrEnum):
    DONE = "done"  # the platform confirmed: published or delivered as a draft
    PROCESSING = "processing"  # accepted, still working: call advance() again later
    RETRYABLE = "retryable"  # transient failure: call advance() again after a backoff
    TERMINAL = "terminal"  # hard failure: the post ends `failed`, no retry
    DEFERRED = "deferred"  # a platform limit is reached: back to `scheduled` until retry_after has passed


@dataclass(frozen=True)
class PlatformError:
    code: str
    message: str
    platform: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "platform": self.platform}


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    # DONE: "published" or "draft"
    status: Literal[PostStatus.PUBLISHED, PostStatus.DRAFT] | None = None
    external_id: str | None = None
    external_url: str | None = None
    # RETRYABLE / TERMINAL (and informative on PROCESSING)
    error: PlatformError | None = None
    # a hint from the platform (Retry-After) in seconds; the runner applies its own backoff otherwise
    retry_after: float | None = None

    @classmethod
    def published(cls, external_id: str | None, external_url: str | None) -> Outcome:
        return cls(
            OutcomeKind.DONE, status=PostStatus.PUBLISHED, external_id=external_id, external_url=external_url
        )

    @classmethod
    def draft(cls, external_id: str | None = None) -> Outcome:
        return cls(OutcomeKind.DONE, status=PostStatus.DRAFT, external_id=external_id)

    @classmethod
    def processing(cls, error: PlatformError | None = None, retry_after: float | None = None) -> Outcome:
        """Still working. `error` is shown as lastError meanwhile (reconciling an unknown outcome);
        `retry_after` asks for the next step no sooner than that (a paced platform call)."""
        return cls(OutcomeKind.PROCESSING, error=error, retry_after=retry_after)

    @classmethod
    def retryable(cls, error: PlatformError, retry_after: float | None = None) -> Outcome:
        return cls(OutcomeKind.RETRYABLE, error=error, retry_after=retry_after)

    @classmethod
    def terminal(cls, error: PlatformError) -> Outcome:
        return cls(OutcomeKind.TERMINAL, error=error)

    @classmethod
    def deferred(cls, error: PlatformError, seconds: float) -> Outcome:
        """Nothing was sent: the post waits `seconds` for the platform's limit to free (QUOTA_DEFERRED)."""
        return cls(OutcomeKind.DEFERRED, error=error, retry_after=seconds)


@dataclass(frozen=True)
class QuotaState:
    """One limit of one account as the ledger knows it."""

    limit: int | None
    used: int
    window_seconds: float
    source: str  # platform | learned | documented
    age_seconds: float  # since the platform was last asked (or the cap learned)
    resets_in_seconds: float | None = None


@dataclass
class AccountCredentials:
    social_account_id: str
    platform: Platform
    handle: str
    external_account_id: str
    access_token: str
    refresh_token: str | None
    token_expires_at: datetime | None
    granted_scopes: list[str]
    instagram_account_type: str | None


@dataclass(frozen=True)
class ManagedProvider:
    provider: str
    base_url: str
    signing_secret: str


@dataclass
class DeliveryJob:
    post_id: str  # sp_..., also the managed provider's Idempotency-Key
    platform: Platform
    mode: Mode
    media_type: MediaType
    media_urls: list[str]
    caption: str  # already resolved: captionOverride wins over the container's caption
    first_comment: str | None  # already resolved the same way
    tiktok_post_settings: dict[str, Any]  # camelCase keys as on the wire; {} when absent
    tiktok_music: dict[str, Any] | None  # {"mode", "trackId"?, "link"?}; link resolved from the catalog
    share_reel_to_feed: bool | None
    account: AccountCredentials
    managed_provider: ManagedProvider | None = None  # set for Mode.MANAGED
    operator_phone: str | None = None  # verified primary operator phone (instagram draft), else None
    fence: int = 1  # the claim's fencing token


class AccountLedger(Protocol):
    """What Crier sent per account and the limits it knows (PostgreSQL is the truth, shared by workers)."""

    async def pace(
        self,
        call: str,
        *,
        limit: int,
        window_seconds: float,
        may_wait_seconds: float,
        take: bool = True,
        late_seconds: float = 0.0,
    ) -> float:
        """Take a slot for one `call` within `limit` per `window_seconds`; seconds until it may go.

        A wait up to `may_wait_seconds` is the caller's to sleep, then it calls. A longer one stays
        reserved for this post (the caller defers it and finds the same slot when it comes back).
        `take=False` looks without taking a near slot (another call comes first). A reservation
        returned to more than `late_seconds` after its time is replaced by a fresh slot.
        """

    async def log_sent(self, call: str) -> None:
        """Count one `call` made now (what Crier sent, for caps counted per day)."""

    async def sent(self, call: str, *, window_seconds: float) -> tuple[int, float | None]:
        """How many `call`s went out in the last window, and seconds until the oldest leaves it."""

    async def quota(self, name: str) -> QuotaState | None:
        """A limit as last stored, with the count kept since."""

    async def save_quota(
        self,
        name: str,
        *,
        limit: int | None,
        used: int,
        window_seconds: float,
        source: str,
        resets_in_seconds: float | None = None,
    ) -> None:
        """Store a limit read from the platform (or learned from a refusal)."""

    async def count(self, name: str) -> None:
        """One more use of a stored limit (Crier's own count between the platform's answers)."""


class DeliveryStore(Protocol):
    """Where an adapter keeps what it learns while delivering one post: the journal of handles, the
    account's tokens and status, the pacing ledger. Every write is committed before it returns."""

    handles: dict[str, Any]  # what earlier calls recorded, e.g. {"tiktok_publish_id": "v_pub_url~..."}

    @property
    def ledger(self) -> AccountLedger:
        """The account's pacing ledger (read-only here, so a journal may hold any ledger that fits)."""

    async def record(self, **handles: Any) -> None:
        """Persist handles (merged into `handles`) right away; called the moment a platform returns one,
        and with an intent marker just before an irreversible call."""

    async def save_tokens(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        token_expires_at: datetime | None,
        refresh_token_expires_at: datetime | None = None,
    ) -> None:
        """Persist rotated platform tokens (never overwrite a stored refresh token with an empty one)."""

    async def disconnect_account(self, reason: str) -> None:
        """Mark the social account disconnected (refresh failed / token revoked)."""


class PlatformAdapter(Protocol):
    async def advance(self, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        """Do the next missing step of delivering `job` and classify the platform's answer."""
