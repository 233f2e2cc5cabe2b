"""Delivery: the worker that drains due scheduled posts through the platform adapters."""
