"""One example per schema of the OpenAPI document, taken from the contract's and the seeds' own examples.

Kept in one place rather than on each model so the whole partner story reads consistently (the same
container, account and post ids everywhere, as in seeds/layers-publish-content.md) and so routes added
by other capabilities only need an entry here, or examples on their own models
(`json_schema_extra={"examples": [...]}`), which win. tests/openapi checks that every operation has a
request and a response example and that each one validates against its schema.
"""

from __future__ import annotations

from typing import Any

ORGANIZATION_ID = "org_1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
PROJECT_ID = "prj_2b9c4e1a-7d3f-4a5b-8c6d-1e2f3a4b5c6d"
KEY_ID = "key_c2037bb9-1d2e-4f3a-8b4c-5d6e7f8a9b0c"
LAYER_ID = "lyr_3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
CONTAINER_ID = "cnt_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"  # the seed's container
ACCOUNT_ID = "sa_71b2a4e5-8c3f-4d1a-9e7b-2c5d8f0a1b22"  # the seed's TikTok account
POST_ID = "sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60"  # the seed's scheduled post
TRACK_ID = "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"  # the seed's tiktokMusic.trackId
CREATED_AT = "2026-04-18T09:00:00.000Z"
APPROVED_AT = "2026-04-18T09:40:12.000Z"  # the approve seed's approvedAt
SCHEDULED_FOR = "2026-05-01T14:00:00.000Z"

# Path parameters by name: `container_id` is a container id wherever it appears.
PARAMETER_EXAMPLES: dict[str, str] = {
    "container_id": CONTAINER_ID,
    "project_id": PROJECT_ID,
    "post_id": POST_ID,
    "account_id": ACCOUNT_ID,
    "organization_id": ORGANIZATION_ID,
    "key_id": KEY_ID,
    "layer_id": LAYER_ID,
    # WEBHOOKS.md and ACCOUNTS.md routes, being built alongside
    "endpoint_id": "whe_5d6e7f80-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
    "delivery_id": "whd_6e7f8091-2b3c-4d5e-8f90-1a2b3c4d5e6f",
    "social_account_id": ACCOUNT_ID,
    "state": "st_Q2hhbmdlIHRoaXMgdG8geW91ciBvd24",
    "platform": "tiktok",
}

_TARGET = {"socialAccountId": ACCOUNT_ID, "mode": "publish"}
_TIKTOK_SETTINGS = {
    "privacyLevel": "PUBLIC_TO_EVERYONE",
    "disableComment": False,
    "disableDuet": False,
    "disableStitch": False,
    "isBrandOrganic": False,
    "isBrandedContent": False,
}
_MEDIA = [{"url": "https://cdn.example.com/renders/launch-teaser.mp4"}]
_CONTAINER = {
    "id": CONTAINER_ID,
    "projectId": PROJECT_ID,
    "status": "completed",
    "approvalStatus": "approved",
    "mediaType": "video",
    "media": _MEDIA,
    "caption": "Launch day. Link in bio.",
    "firstComment": "#launch",
    "approvedAt": APPROVED_AT,
    "approvedBy": KEY_ID,
    "approvalNote": "Looks good. Shipping tomorrow 7am.",
    "rejectedAt": None,
    "rejectionReason": None,
    "pendingSchedule": None,
    "createdAt": CREATED_AT,
    "updatedAt": APPROVED_AT,
}
_POST = {
    "id": POST_ID,
    "containerId": CONTAINER_ID,
    "projectId": PROJECT_ID,
    "socialAccountId": ACCOUNT_ID,
    "platform": "tiktok",
    "mode": "publish",
    "status": "published",
    "scheduledFor": SCHEDULED_FOR,
    "attemptedAt": "2026-05-01T14:00:01.204Z",
    "publishedAt": "2026-05-01T14:00:09.871Z",
    "canceledAt": None,
    "externalId": "7351234567890123456",
    "externalUrl": "https://www.tiktok.com/@creator/video/7351234567890123456",
    "lastError": None,
    "createdAt": CREATED_AT,
    "updatedAt": "2026-05-01T14:00:09.871Z",
    "captionOverride": None,
    "firstCommentOverride": None,
    "tiktokPostSettings": _TIKTOK_SETTINGS,
    "tiktokMusic": None,
    "shareReelToFeed": None,
}
_READINESS = {"publish": True, "draft": True, "managed": False}
_TRACK = {"id": TRACK_ID, "title": "Golden Hour", "artist": "JVKE"}
_TRACK_IN = {**_TRACK, "link": "https://www.tiktok.com/music/golden-hour-7125381912"}
_ORGANIZATION = {
    "id": ORGANIZATION_ID,
    "name": "Acme",
    "primaryOperatorPhone": "+15555550100",
    "primaryOperatorPhoneVerified": True,
    "createdAt": CREATED_AT,
}
_API_KEY = {
    "id": KEY_ID,
    "organizationId": ORGANIZATION_ID,
    "name": "partner app",
    "scopes": ["content:approve", "content:write", "publish:write"],
    "keyPrefix": "lp_live_Xk3f",
    "createdAt": CREATED_AT,
    "revokedAt": None,
    "allowedReturnHosts": ["app.example.com"],
}
_ADMIN_ACCOUNT = {
    "id": ACCOUNT_ID,
    "projectId": PROJECT_ID,
    "platform": "tiktok",
    "handle": "creator",
    "externalAccountId": "-000QxJbV5Ey0wH8DV9uYHMkjFNOnlxvdCDW",
    "status": "connected",
    "grantedScopes": ["video.publish", "video.upload"],
    "instagramAccountType": None,
    "layerId": None,
    "tokenExpiresAt": "2026-04-19T09:00:00.000Z",
    "createdAt": CREATED_AT,
}

_PROJECT_ACCOUNT = {
    "id": ACCOUNT_ID,
    "platform": "tiktok",
    "handle": "creator",
    "displayName": "Creator",
    "avatarUrl": "https://p16-sign.tiktokcdn.com/avatar/creator.jpeg",
    "status": "connected",
    "grantedScopes": ["user.info.basic", "video.publish", "video.upload"],
    "readiness": _READINESS,
    "tokenExpiresAt": "2026-04-19T09:00:00.000Z",
    "connectedAt": CREATED_AT,
}
_OPERATOR_POST = {
    **_POST,
    "status": "failed",
    "publishedAt": None,
    "externalId": None,
    "externalUrl": None,
    "lastError": {
        "code": "OUTCOME_UNKNOWN",
        "message": "The TikTok init answer was lost.",
        "platform": "tiktok",
    },
    "organizationId": ORGANIZATION_ID,
    "retryCount": 0,
    "requestId": "req_3f1c2b7a9d8e4f60a1b2c3d4e5f60718",
}
_ATTEMPT = {
    "number": 1,
    "startedAt": "2026-05-01T14:00:01.204Z",
    "endedAt": "2026-05-01T14:00:09.871Z",
    "step": "status_fetch",
    "outcome": "published",
    "error": None,
}
_PROBLEM = {
    "code": "TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH",
    "message": "privacyLevel PUBLIC_TO_EVERYONE is not available for this TikTok account "
    "(it allows: SELF_ONLY, MUTUAL_FOLLOW_FRIENDS).",
    "field": "targets[0].tiktokPostSettings.privacyLevel",
}
_LIMIT = {
    "name": "init",
    "window": 60,
    "limit": 6,
    "used": 2,
    "resetsAt": "2026-05-01T14:01:00.000Z",
    "source": "documented",
}
_ENDPOINT_ID = PARAMETER_EXAMPLES["endpoint_id"]
_SECRET = "whsec_q3Jx8sPz2yVd6mK0tB4nW9cL1fH7aE5gR2uY8iO3pQs"
_ENDPOINT = {
    "id": _ENDPOINT_ID,
    "url": "https://app.example.com/hooks/crier",
    "events": ["post.published", "post.failed"],
    "description": "Acme production",
    "projectId": PROJECT_ID,
    "metadata": {"team": "growth"},
    "status": "active",
    "consecutiveFailures": 0,
    "createdAt": CREATED_AT,
    "updatedAt": CREATED_AT,
}
_DELIVERY = {
    "id": PARAMETER_EXAMPLES["delivery_id"],
    "endpointId": _ENDPOINT_ID,
    "eventId": "evt_01JRZ8Q6W4N3B2V1C0X9Z8Y7T6",
    "eventType": "post.published",
    "status": "delivered",
    "attempts": 1,
    "nextRetryAt": None,
    "deliveredAt": "2026-05-01T14:00:10.112Z",
    "abandonedAt": None,
    "lastResponseStatus": 200,
    "lastResponseAt": "2026-05-01T14:00:10.112Z",
    "lastErrorMessage": None,
    "createdAt": "2026-05-01T14:00:09.871Z",
}
SCHEMA_EXAMPLES: dict[str, Any] = {
    # content (CONTRACT §8)
    "MediaItem": _MEDIA[0],
    "ContentIn": {
        "projectId": PROJECT_ID,
        "mediaType": "video",
        "media": _MEDIA,
        "caption": "Launch day. Link in bio.",
        "firstComment": "#launch",
        "status": "completed",
    },
    "ContentPatch": {"caption": "Launch day. Link in bio (updated).", "status": "completed"},
    "ContentOut": _CONTAINER,
    "PendingScheduleTarget": {"scheduledPostId": POST_ID, "socialAccountId": ACCOUNT_ID, "mode": "publish"},
    "PendingSchedule": {
        "scheduledFor": SCHEDULED_FOR,
        "targets": [{"scheduledPostId": POST_ID, "socialAccountId": ACCOUNT_ID, "mode": "publish"}],
    },
    # publishing (seeds/layers-publish-content.md)
    "TiktokPostSettings": _TIKTOK_SETTINGS,
    "TiktokMusic": {"mode": "manual", "trackId": TRACK_ID},
    "Target": {**_TARGET, "tiktokPostSettings": _TIKTOK_SETTINGS, "tiktokMusic": {"mode": "auto"}},
    "PublishIn": {"targets": [_TARGET]},
    "ScheduleIn": {"targets": [_TARGET], "scheduledFor": SCHEDULED_FOR},
    "PublishOut": {"scheduledPostIds": [POST_ID]},
    "ScheduleOut": {"scheduledPostIds": [POST_ID], "gateStatus": "queued", "scheduledFor": SCHEDULED_FOR},
    # approval (seeds/layers-approve-content.md)
    "ApproveIn": {"note": "Looks good. Shipping tomorrow 7am."},
    "RejectIn": {"reason": "Off brand: wrong logo in the first frame."},
    "PendingSchedulePromotion": {"status": "ok", "scheduledPostIds": [POST_ID]},
    "ApprovalOut": {
        "id": CONTAINER_ID,
        "approvalStatus": "approved",
        "approvedAt": APPROVED_AT,
        "approvedBy": KEY_ID,
        "approvalNote": "Looks good. Shipping tomorrow 7am.",
    },
    "RejectionOut": {
        "id": CONTAINER_ID,
        "approvalStatus": "rejected",
        "rejectedAt": APPROVED_AT,
        "rejectedBy": KEY_ID,
        "rejectionReason": "Off brand: wrong logo in the first frame.",
        "canceledScheduledPostIds": [POST_ID],
    },
    "ApprovalPolicyOut": {
        "projectId": PROJECT_ID,
        "requiresApproval": True,
        "firstNPostsBlocked": 3,
        "currentBlockedCount": 1,
        "gateOpen": False,
    },
    # scheduled posts (CONTRACT §7)
    "ScheduledPostOut": _POST,
    "ScheduledPostPage": {
        "items": [_POST],
        "nextCursor": "eyJzIjoiMjAyNi0wNS0wMVQxNDowMDowMFoiLCJpIjoic3BfNGM4ZSJ9",
    },
    # accounts and catalog (CONTRACT §9)
    "Readiness": _READINESS,
    "SocialAccountItem": {
        "id": ACCOUNT_ID,
        "platform": "tiktok",
        "handle": "creator",
        "projectId": PROJECT_ID,
        "status": "connected",
        "instagramAccountType": None,
        "layerId": None,
        "grantedScopes": ["video.publish", "video.upload"],
        "readiness": _READINESS,
    },
    "SocialAccountList": {
        "items": [
            {
                "id": ACCOUNT_ID,
                "platform": "tiktok",
                "handle": "creator",
                "projectId": PROJECT_ID,
                "status": "connected",
                "instagramAccountType": None,
                "layerId": None,
                "grantedScopes": ["video.publish", "video.upload"],
                "readiness": _READINESS,
            }
        ]
    },
    "MusicTrack": _TRACK,
    "AccountsMusicCatalogOut": {"items": [_TRACK]},
    # operator API (CONTRACT §10)
    "OrganizationIn": {
        "name": "Acme",
        "primaryOperatorPhone": "+15555550100",
        "primaryOperatorPhoneVerified": True,
    },
    "OrganizationOut": _ORGANIZATION,
    "ApiKeyIn": {"name": "partner app", "scopes": ["content:write", "content:approve", "publish:write"]},
    "ApiKeyOut": {**_API_KEY, "revokedAt": APPROVED_AT},
    "ApiKeyCreated": {**_API_KEY, "key": "lp_live_Xk3fQ9pL2mN7vB4cR8sT1wY6zA0dE5gH"},
    "ProjectIn": {"name": "Main", "requiresApproval": True, "firstNPostsBlocked": 3},
    "ProjectOut": {
        "id": PROJECT_ID,
        "organizationId": ORGANIZATION_ID,
        "name": "Main",
        "requiresApproval": True,
        "firstNPostsBlocked": 3,
        "currentBlockedCount": 0,
        "createdAt": CREATED_AT,
    },
    "LayerIn": {
        "templateId": "af058068-ad85-4fb8-92a1-f531b40bfcbc",
        "config": {
            "provider": "acme",
            "baseUrl": "https://managed.example.com",
            "signingSecret": "provider-shared-secret",
        },
    },
    "LayerOut": {
        "id": LAYER_ID,
        "projectId": PROJECT_ID,
        "templateId": "af058068-ad85-4fb8-92a1-f531b40bfcbc",
        "config": {"provider": "acme", "baseUrl": "https://managed.example.com"},
        "hasSigningSecret": True,
        "createdAt": CREATED_AT,
    },
    "SocialAccountIn": {
        "platform": "tiktok",
        "handle": "creator",
        "externalAccountId": "-000QxJbV5Ey0wH8DV9uYHMkjFNOnlxvdCDW",
        "accessToken": "act.example",
        "refreshToken": "rft.example",
        "tokenExpiresAt": "2026-04-19T09:00:00Z",
        "grantedScopes": ["video.publish", "video.upload"],
    },
    "SocialAccountOut": _ADMIN_ACCOUNT,
    "MusicTrackIn": _TRACK_IN,
    "MusicCatalogIn": {"items": [_TRACK_IN]},
    "AdminMusicCatalogOut": {"items": [_TRACK_IN]},
    # every error (CONTRACT §2)
    "ErrorBody": {
        "code": "NOT_FOUND",
        "message": "Content container not found.",
        "requestId": "req_3f1c2b7a9d8e4f60a1b2c3d4e5f60718",
        "details": {},
    },
    "ErrorEnvelope": {
        "error": {
            "code": "NOT_FOUND",
            "message": "Content container not found.",
            "requestId": "req_3f1c2b7a9d8e4f60a1b2c3d4e5f60718",
            "details": {},
        }
    },
    # health
    "Liveness": {"status": "ok"},
    "ReadinessProbe": {"status": "ready"},
    # Connecting accounts (ACCOUNTS.md)
    "OAuthUrlIn": {
        "platform": "tiktok",
        "returnUrl": "https://app.example.com/accounts/connected",
        "usageNote": "Posting launch videos for Acme",
    },
    "OAuthUrlOut": {
        "authorizeUrl": "https://www.tiktok.com/v2/auth/authorize/?client_key=aw3k&response_type=code"
        "&scope=user.info.basic%2Cvideo.publish%2Cvideo.upload"
        "&state=st_Q2hhbmdlIHRoaXMgdG8geW91ciBvd24&code_challenge_method=S256",
        "state": "st_Q2hhbmdlIHRoaXMgdG8geW91ciBvd24",
        "expiresAt": "2026-04-18T09:10:00.000Z",
    },
    "ReauthUrlIn": {
        "socialAccountId": ACCOUNT_ID,
        "returnUrl": "https://app.example.com/accounts/reconnected",
    },
    "OAuthError": {"code": "access_denied", "message": "The creator declined the consent screen."},
    "OAuthStatusOut": {
        "status": "completed",
        "socialAccountId": ACCOUNT_ID,
        "platform": "tiktok",
        "error": None,
    },
    "MissingScopes": {"publish": [], "draft": ["video.upload"]},
    "AccountHealth": {
        "status": "connected",
        "tokenExpiresAt": "2026-04-19T09:00:00.000Z",
        "refreshTokenExpiresAt": "2027-04-18T09:00:00.000Z",
        "lastRefreshAt": CREATED_AT,
        "lastRefreshError": None,
        "grantedScopes": ["user.info.basic", "video.publish"],
        "missingScopes": {"publish": [], "draft": ["video.upload"]},
    },
    "ProjectSocialAccount": _PROJECT_ACCOUNT,
    "ProjectSocialAccountPage": {"items": [_PROJECT_ACCOUNT], "nextCursor": None},
    # Second chances and platform limits (Crier extensions)
    "AttemptOut": _ATTEMPT,
    "AttemptList": {"items": [_ATTEMPT]},
    "ProblemOut": _PROBLEM,
    "TargetReport": {"socialAccountId": ACCOUNT_ID, "problems": [_PROBLEM]},
    "ValidateOut": {"ok": False, "targets": [{"socialAccountId": ACCOUNT_ID, "problems": [_PROBLEM]}]},
    "LimitOut": _LIMIT,
    "QuotaOut": {"platform": "tiktok", "limits": [_LIMIT]},
    # Webhooks (WEBHOOKS.md)
    "EndpointIn": {
        "url": "https://app.example.com/hooks/crier",
        "events": ["post.published", "post.failed"],
        "description": "Acme production",
        "projectId": PROJECT_ID,
        "metadata": {"team": "growth"},
    },
    "EndpointPatch": {"status": "active", "events": ["post.published", "post.failed", "post.canceled"]},
    "EndpointOut": _ENDPOINT,
    "EndpointCreated": {"endpoint": _ENDPOINT, "signingSecret": _SECRET},
    "EndpointPage": {"items": [_ENDPOINT], "nextCursor": None},
    "SigningSecretOut": {"signingSecret": _SECRET},
    "DeliveryOut": _DELIVERY,
    "DeliveryPage": {"items": [_DELIVERY], "nextCursor": None},
    # Operator views across organizations
    "SocialAccountListed": {
        **_ADMIN_ACCOUNT,
        "organizationId": ORGANIZATION_ID,
        "disconnectedReason": None,
        "disconnectedAt": None,
    },
    "OperatorPostOut": _OPERATOR_POST,
    "OperatorPostPage": {"items": [_OPERATOR_POST], "nextCursor": None},
}
