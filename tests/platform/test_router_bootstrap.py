"""The bootstrap nginx config: written until router-sync owns the file, and accepted by nginx."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deis_platform import executables
from deis_platform.nginx import prepare_prefix


def test_the_bootstrap_config_passes_nginx_config_test(tmp_path: Path) -> None:
    assert prepare_prefix(tmp_path, http_port=18080, domain="localhost", controller_port=18000)

    result = subprocess.run(
        [executables.nginx(), "-p", str(tmp_path), "-c", "nginx.conf", "-t"], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert "server_name deis.localhost;" in (tmp_path / "nginx.conf").read_text()


def test_a_changed_port_rewrites_our_own_bootstrap_config(tmp_path: Path) -> None:
    prepare_prefix(tmp_path, http_port=18080, domain="localhost", controller_port=18000)

    assert prepare_prefix(tmp_path, http_port=18081, domain="localhost", controller_port=18000)
    assert "127.0.0.1:18081" in (tmp_path / "nginx.conf").read_text()


def test_a_config_written_by_router_sync_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("# rendered by router-sync\n")

    assert not prepare_prefix(tmp_path, http_port=18080, domain="localhost", controller_port=18000)
    assert (tmp_path / "nginx.conf").read_text() == "# rendered by router-sync\n"
    assert (tmp_path / "temp" / "proxy").is_dir()
