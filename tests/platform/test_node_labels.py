"""The node labels of the embedded platform: given with ``up --label``, kept in the state file, passed on to
the controller as DEIS_NODE_LABELS (the launcher's own logic; test_launcher drives a real platform)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deis_platform import cli, node
from deis_platform.env_contract import ContractInputs, service_environment
from deis_platform.pgauth import DatabasePasswords
from deis_platform.ports import DEFAULT_PORTS
from deis_platform.state import PlatformState


def test_labels_given_replace_the_recorded_ones_and_are_kept_otherwise() -> None:
    recorded = {"disk": "ssd"}

    assert node.chosen_labels(recorded, None, forget=False) == {"disk": "ssd"}
    assert node.chosen_labels(recorded, ["zone=a", "example.com/tier=gold"], forget=False) == {
        "zone": "a",
        "example.com/tier": "gold",
    }
    assert node.chosen_labels(recorded, None, forget=True) == {}


@pytest.mark.parametrize("bad", ["disk", "bad key=x", "disk=not ok", "a/b/c=1", "Bad_Prefix.com/x=1"])
def test_labels_must_follow_kubernetes_label_syntax(bad: str) -> None:
    with pytest.raises(node.LabelError):
        node.parse_label(bad)


def test_the_node_carries_kubernetes_default_labels_under_the_users() -> None:
    labels = node.node_labels({"disk": "ssd", "kubernetes.io/os": "plan9"})

    assert labels["disk"] == "ssd"
    assert labels["kubernetes.io/os"] == "plan9"  # the user's label wins
    assert set(node.default_labels()) <= {"kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/hostname"}


def test_labels_survive_in_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "platform.json"
    PlatformState(labels={"disk": "ssd"}).save(path)

    assert PlatformState.load(path).labels == {"disk": "ssd"}
    assert json.loads(path.read_text())["labels"] == {"disk": "ssd"}
    path.write_text(json.dumps({"ports": {}}))  # written before labels existed
    assert PlatformState.load(path).labels == {}


def test_the_controller_alone_is_told_the_node_labels() -> None:
    inputs = ContractInputs(
        data_dir=Path("/data"),
        ports=DEFAULT_PORTS,
        domain="localhost",
        builder_key="k",
        database_passwords=DatabasePasswords(superuser="s", controller="c", backup="b"),
        node_labels={"disk": "ssd"},
    )

    assert service_environment("controller", inputs)["DEIS_NODE_LABELS"] == "disk=ssd"
    assert "DEIS_NODE_LABELS" not in service_environment("scheduler", inputs)


def test_a_malformed_label_stops_up_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.run(["--data-dir", str(tmp_path / "data"), "up", "--label", "disk"])

    assert code == 1
    assert "label 'disk' must look like key=value" in capsys.readouterr().err
    assert not (tmp_path / "data" / "supervisor" / "supervisord.pid").exists()
