"""Where app processes run: the backend Protocol and its implementations (local sandboxes, Kubernetes)."""
