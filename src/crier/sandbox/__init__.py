"""Loopback fakes of TikTok, Instagram Graph, Twilio and a managed provider, speaking PLATFORMS.md."""
