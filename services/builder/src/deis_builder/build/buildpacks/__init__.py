"""Buildpacks: the Heroku buildpack API (detect, compile, release) run in a sandbox, and the bundled packs."""

from deis_builder.build.buildpacks.runner import (
    Buildpack,
    BuildpackRunner,
    bundled_buildpacks,
    fetch_buildpack,
)

__all__ = ["Buildpack", "BuildpackRunner", "bundled_buildpacks", "fetch_buildpack"]
