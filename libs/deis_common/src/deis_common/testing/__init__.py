"""Test fixtures on real peers: a NATS server per test, one Postgres per session, an S3 server.

Registered for the whole test suite by ``-p deis_common.testing.plugin`` (root pyproject.toml).
"""
