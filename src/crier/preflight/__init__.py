"""Preflight: POST /v1/content/{id}/validate answers what /publish would, and what the platforms would refuse."""
