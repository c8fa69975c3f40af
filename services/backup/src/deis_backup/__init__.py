"""deis_backup: continuous archiving of the platform database (WAL and base backups) to the object store."""
