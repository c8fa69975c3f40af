"""The ``deis`` command line: drives the platform through the controller's v2 REST API."""

__version__ = "2.18.0"
