"""What operators watch: health and readiness, Prometheus metrics, JSON logs, request ids."""
