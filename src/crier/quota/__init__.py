"""Platform limits: the per-account call log that paces calls, the quota ledger, deferral, GET .../quota."""
