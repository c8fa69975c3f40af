"""deis_controller."""
