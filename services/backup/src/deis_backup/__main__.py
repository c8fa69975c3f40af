"""Entry point of ``deis-backup``: the backup service (no verb, or ``serve``) and the archive verbs."""

from __future__ import annotations

from deis_backup.cli import main

if __name__ == "__main__":
    main()
