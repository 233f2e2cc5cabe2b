"""Answers shaped as CONTRACT.md, WEBHOOKS.md and ACCOUNTS.md write them (ids, camelCase, Z times)."""

from __future__ import annotations

CONTAINER_ID = "cnt_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"
PROJECT_ID = "prj_2b9c4e1a-7d3f-4a5b-8c6d-1e2f3a4b5c6d"
ACCOUNT_ID = "sa_71b2a4e5-8c3f-4d1a-9e7b-2c5d8f0a1b22"
POST_ID = "sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60"
ENDPOINT_ID = "whe_5d6e7f80-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
DELIVERY_ID = "whd_6e7f8091-2b3c-4d5e-8f90-1a2b3c4d5e6f"
KEY_ID = "key_c2037bb9-1d2e-4f3a-8b4c-5d6e7f8a9b0c"
TIME = "2026-04-18T09:40:12.000Z"

CONTAINER = {
    "id": CONTAINER_ID,
    "projectId": PROJECT_ID,
    "status": "completed",
    "approvalStatus": "pending",
    "mediaType": "video",
    "media": [{"url": "https://cdn.example.com/clip.mp4"}],
    "caption": "Launch day",
    "firstComment": None,
    "approvedAt": None,
    "approvedBy": None,
    "approvalNote": None,
    "rejectedAt": None,
    "rejectionReason": None,
    "pendingSchedule": None,
    "createdAt": TIME,
    "updatedAt": TIME,
}
POST = {
    "id": POST_ID,
    "containerId": CONTAINER_ID,
    "projectId": PROJECT_ID,
    "socialAccountId": ACCOUNT_ID,
    "platform": "tiktok",
    "mode": "publish",
    "status": "scheduled",
    "scheduledFor": TIME,
    "attemptedAt": None,
    "publishedAt": None,
    "canceledAt": None,
    "externalId": None,
    "externalUrl": None,
    "lastError": None,
    "createdAt": TIME,
    "updatedAt": TIME,
    "captionOverride": None,
    "firstCommentOverride": None,
    "tiktokPostSettings": None,
    "tiktokMusic": None,
    "shareReelToFeed": None,
}
APPROVAL = {
    "id": CONTAINER_ID,
    "approvalStatus": "approved",
    "approvedAt": TIME,
    "approvedBy": KEY_ID,
    "approvalNote": "Looks good.",
    "pendingSchedulePromotion": {"status": "ok", "scheduledPostIds": [POST_ID]},
}
REJECTION = {
    "id": CONTAINER_ID,
    "approvalStatus": "rejected",
    "rejectedAt": TIME,
    "rejectedBy": KEY_ID,
    "rejectionReason": "Off brand",
    "canceledScheduledPostIds": [POST_ID],
}
POLICY = {
    "projectId": PROJECT_ID,
    "requiresApproval": True,
    "firstNPostsBlocked": 3,
    "currentBlockedCount": 1,
    "gateOpen": False,
}
ACCOUNT = {
    "id": ACCOUNT_ID,
    "platform": "tiktok",
    "handle": "creator",
    "projectId": PROJECT_ID,
    "status": "connected",
    "instagramAccountType": None,
    "layerId": None,
    "grantedScopes": ["video.publish", "video.upload"],
    "readiness": {"publish": True, "draft": True, "managed": False},
}
CONNECTED_ACCOUNT = {
    "id": ACCOUNT_ID,
    "platform": "tiktok",
    "handle": "creator",
    "displayName": "Creator",
    "avatarUrl": "https://cdn.example.com/a.png",
    "status": "connected",
    "grantedScopes": ["video.publish"],
    "readiness": {"publish": True, "draft": False, "managed": False},
    "tokenExpiresAt": TIME,
    "connectedAt": TIME,
}
TRACK = {"id": "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999", "title": "Sandbox Song", "artist": "The Fakes"}
ENDPOINT = {
    "id": ENDPOINT_ID,
    "url": "https://partner.example.com/hooks",
    "events": ["post.published"],
    "description": "prod",
    "projectId": None,
    "metadata": {"team": "growth"},
    "status": "active",
    "consecutiveFailures": 0,
    "createdAt": TIME,
    "updatedAt": TIME,
}
SECRET = "whsec_q2Vt0fQWcFJ0yV9nYp3W5l5cEJ8xk1o1u0i6yGmZ3aA"
DELIVERY = {
    "id": DELIVERY_ID,
    "endpointId": ENDPOINT_ID,
    "eventId": "evt_01HXZ9ABCDEFGHJKMNPQRSTVWX",
    "eventType": "post.published",
    "status": "delivered",
    "attempts": 1,
    "nextRetryAt": None,
    "deliveredAt": TIME,
    "abandonedAt": None,
    "lastResponseStatus": 200,
    "lastResponseAt": TIME,
    "lastErrorMessage": None,
    "createdAt": TIME,
}
OAUTH_URL = {
    "authorizeUrl": "https://www.tiktok.com/v2/auth/authorize/?client_key=ck&state=st_abc",
    "state": "st_abc",
    "expiresAt": TIME,
}
OAUTH_STATUS = {"status": "completed", "socialAccountId": ACCOUNT_ID, "platform": "tiktok"}
HEALTH = {
    "status": "connected",
    "tokenExpiresAt": TIME,
    "refreshTokenExpiresAt": TIME,
    "lastRefreshAt": TIME,
    "lastRefreshError": None,
    "grantedScopes": ["video.publish"],
    "missingScopes": {"publish": [], "draft": ["video.upload"]},
}


def envelope(
    code: str, message: str = "problem", details: dict | None = None, request_id: str = "req_0123456789abcdef"
) -> dict:
    return {"error": {"code": code, "message": message, "requestId": request_id, "details": details or {}}}
