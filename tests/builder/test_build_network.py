"""Build steps run in a network namespace of their own: registries yes, this host no (ARCHITECTURE §6)."""

from __future__ import annotations

from pathlib import Path

from deis_builder.build.sandbox import Mount, Network, Sandbox
from deis_common import netns
from deis_common.testing import reach


async def test_a_build_step_reaches_the_package_registry_but_nothing_on_this_host(
    tmp_path: Path, nats_url: str
) -> None:
    (tmp_path / "probe.py").write_text(reach.PROBE)
    network = Network("builder-test-" + tmp_path.name)
    sandbox = Sandbox(["/etc", "/opt"], network=network)
    nats = nats_url.split("@")[-1].removeprefix("nats://")
    async with reach.host_listener() as port:
        hosts = [f"{address}:{port}" for address in reach.host_addresses()]  # 127.0.0.1 among them
        argv = ["/usr/bin/python3", "/app/probe.py", "pypi.org:443", nats, *hosts]
        code, output = await sandbox.run(argv, [Mount(tmp_path, "/app")], {"PATH": "/usr/bin:/bin"})

    assert code == 0, output
    results = reach.verdicts(output)
    assert results.pop("pypi.org:443") == "connected"
    assert set(results) == {nats, *hosts}
    assert "connected" not in results.values(), results
    assert netns.owned_by(network.owner) == [], "each step's network goes with it"
