"""Publishing: `/publish` and `/schedule` share one validation and write path (CONTRACT §4)."""
