"""Event handlers of the controller, one router per event family."""
