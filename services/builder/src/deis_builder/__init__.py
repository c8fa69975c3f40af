"""deis_builder."""
