"""Approval: the project's gate, approve/reject, and promotion of stashed targets (CONTRACT §5)."""
