"""deis_platform."""
