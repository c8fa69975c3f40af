"""router-sync: keeps nginx serving exactly the routes the platform's events describe."""

from deis_router_sync.service import build
from deis_router_sync.settings import RouterSyncSettings

__all__ = ["RouterSyncSettings", "build"]
