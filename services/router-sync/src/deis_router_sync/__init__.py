"""deis_router_sync."""
