"""Platform adapters: each turns a post into platform calls and classifies every answer.

Nothing is re-exported here: importing one module (the protocol in `base`, the limits) must not
load every adapter. `registry.adapter_for` is the one place that imports them all.
"""
