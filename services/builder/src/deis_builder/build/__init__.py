"""The build stage: a worker that turns a received push into a slug or an image, in a sandbox.

It learns of a push only through the bus (``pushes.received``) and never imports :mod:`deis_builder.push`.
"""
