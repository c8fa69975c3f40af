"""Event handlers: each module builds a router whose handlers queue route changes and report outcomes."""

from deis_router_sync.handlers.apps import build_router as apps_router
from deis_router_sync.handlers.certs import build_router as certs_router
from deis_router_sync.handlers.containers import build_router as containers_router
from deis_router_sync.handlers.domains import build_router as domains_router

__all__ = ["apps_router", "certs_router", "containers_router", "domains_router"]
