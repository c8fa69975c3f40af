"""deis_cli."""
