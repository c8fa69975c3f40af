"""deis_common."""
