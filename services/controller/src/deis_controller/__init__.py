"""The controller: the v2 REST API and source of truth (Postgres), publishing events via an outbox."""
