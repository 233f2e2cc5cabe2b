"""Crier: a self-hostable, Layers-compatible publishing backend."""
