"""Benchmarks that print figures; run them all with ``make bench`` or one with ``python -m bench NAME``."""
