"""The event catalog (WEBHOOKS.md §3): names partners subscribe to, and which post status emits which."""

from __future__ import annotations

from crier.core.vocabulary import PostStatus

# A scheduled post's status → the event its arrival emits (blocked_on_approval and publishing emit none).
POST_EVENT_BY_STATUS = {
    PostStatus.SCHEDULED: "post.scheduled",
    PostStatus.PUBLISHED: "post.published",
    PostStatus.DRAFT: "post.draft",
    PostStatus.FAILED: "post.failed",
    PostStatus.CANCELED: "post.canceled",
}
# Crier extension (issue 14): a post a platform limit sent back to `scheduled` until `deferredUntil`.
DEFERRED_EVENT = "post.deferred"
CONTENT_EVENTS = ("content.approved", "content.rejected")
ACCOUNT_EVENTS = ("social_account.needs_reauth",)
TEST_EVENT = "test.ping"
EVENT_TYPES = (*POST_EVENT_BY_STATUS.values(), DEFERRED_EVENT, *CONTENT_EVENTS, *ACCOUNT_EVENTS, TEST_EVENT)
