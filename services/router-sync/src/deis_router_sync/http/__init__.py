"""router-sync's HTTP resources (beside the built-in /healthz, /readiness and /metrics)."""

from deis_router_sync.http.routes import add_routes

__all__ = ["add_routes"]
