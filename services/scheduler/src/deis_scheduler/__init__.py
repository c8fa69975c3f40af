"""deis_scheduler."""
