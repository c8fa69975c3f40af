"""Events of the ``pushes`` family: a ``git push`` received by the builder's SSH front door."""

from __future__ import annotations

from typing import Self

from pydantic import Field

from deis_common.events.base import REDACTED, Event


class PushReceived(Event):
    """The pushed revision is archived in the store and waits for a build worker."""

    subject = "deis.v1.pushes.received"
    confidential = True

    app: str
    build_id: str = Field(description="id of the build this push starts; names the build log subject")
    user: str
    sha: str = Field(description="full 40-hex revision")
    ref: str = ""
    source_key: str = Field(description="store key of the source tarball in the builder bucket")
    env: dict[str, str] = Field(default_factory=dict, description="app config at push time (secret)")
    image: str = Field(
        "",
        description="an image to pull instead of pushed source (deis pull): the builder fetches it and "
        "completes the build with kind 'image'; sha and source_key are then empty",
    )

    def redacted(self) -> Self:
        return self.model_copy(update={"env": dict.fromkeys(self.env, REDACTED)})
