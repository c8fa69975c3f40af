"""The nodes apps may be placed on, as far as tags go: ``tags:set`` must name labels some node carries.

Workflow's controller asked Kubernetes for the nodes matching an app's tags and refused tags no node has.
Here the nodes' labels are a setting (``DEIS_NODE_LABELS``): on one machine the platform launcher passes the
local node's labels (``deis-platform up --label k=v``); where the setting is empty (a cluster whose nodes the
controller cannot list) any well-formed tags are accepted and Kubernetes places the pods.
"""

from __future__ import annotations

import json

from deis_controller.errors import BadRequest

Labels = dict[str, str]


def parse(raw: str) -> list[Labels] | None:
    """The nodes' labels from the setting; None when unknown.

    JSON (one node's ``{k: v}`` or a list of them), or kubelet's ``--node-labels`` form for one node,
    ``k=v,k2=v2`` (no quotes, so it passes through any process manager's environment).
    """
    if not raw.strip():
        return None
    if not raw.lstrip().startswith(("{", "[")):
        pairs = [pair.strip().partition("=") for pair in raw.split(",") if pair.strip()]
        if any(not sep or not key for key, sep, _ in pairs):
            raise ValueError("node labels must be JSON or key=value pairs separated by commas")
        return [{key: value for key, _, value in pairs}]
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise ValueError(f"node labels must be JSON: {e}") from e
    nodes = value if isinstance(value, list) else [value]
    if not all(isinstance(node, dict) for node in nodes):
        raise ValueError("node labels must be a JSON object, or a list of objects (one per node)")
    return [{str(k): str(v) for k, v in node.items()} for node in nodes]


def check_tags(tags: Labels, previous: Labels, nodes: list[Labels] | None) -> None:
    """Refuse ``tags`` that no node carries, with Workflow's message (400)."""
    if not tags or nodes is None:
        return
    if any(all(node.get(k) == str(v) for k, v in tags.items()) for node in nodes):
        return
    labels = [f"{k}={v}" for k, v in tags.items()]
    message = f"No nodes matched the provided labels: {', '.join(labels)}"
    if previous:
        old = {f"{k}={v}" for k, v in previous.items()}
        added = [label for label in labels if label not in old]
        if added:
            message += f" - Addition of {', '.join(added)} is the cause"
    raise BadRequest(message)
