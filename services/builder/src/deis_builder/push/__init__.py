"""The receive stage: SSH, git serving, the pre-receive hook and the push session that waits on the build.

It hands a push to the build stage only through the bus (``pushes.received``) and never imports
:mod:`deis_builder.build`.
"""
