"""The controller's rules: what each change does, checked and applied within a unit of work."""
