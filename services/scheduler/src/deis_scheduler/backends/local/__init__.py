"""The local backend: app processes in bubblewrap sandboxes on this machine, supervised by small shims."""
