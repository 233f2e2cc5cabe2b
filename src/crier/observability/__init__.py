"""What operators see from outside: Prometheus metrics, the access log, optional tracing."""
