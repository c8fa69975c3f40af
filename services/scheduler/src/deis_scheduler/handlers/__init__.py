"""Event handlers of the scheduler, one router per event family."""
