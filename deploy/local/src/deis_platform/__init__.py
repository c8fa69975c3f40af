"""deis_platform: runs the whole platform on one machine under supervisord (``deis-platform up``)."""
