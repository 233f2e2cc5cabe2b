"""Benchmarks and the fault-injection suite (`make chaos`)."""
