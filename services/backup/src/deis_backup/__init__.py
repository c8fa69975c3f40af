"""deis_backup."""
