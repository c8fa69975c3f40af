"""SSH public keys: validation and the MD5 colon fingerprint the builder looks keys up by."""

from __future__ import annotations

import base64
import binascii
import hashlib

from deis_controller.errors import FieldErrors


def fingerprint(public: str) -> str:
    """MD5 of the decoded key blob as lowercase hex pairs joined by ``:``; 400 when it is not base64."""
    parts = public.split()
    if len(parts) < 2:
        raise FieldErrors.one("public", "Key contains invalid base64 chars")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise FieldErrors.one("public", "Key contains invalid base64 chars") from e
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def short(public: str) -> str:
    """How a key is named in log lines."""
    return f"{public[:18]}...{public[-31:]}"
