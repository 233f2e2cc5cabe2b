"""Scheduled posts: read one, cancel one, list a project's history (CONTRACT §7)."""
