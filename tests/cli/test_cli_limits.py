"""limits, tags, registry and healthchecks (all kept in the app's config), through the installed `deis`."""

from __future__ import annotations


async def test_limits_set_list_unset(deis, admin) -> None:
    assert (await deis("create", "lean", "--no-remote")).ok
    a = ("-a", "lean")
    assert (
        await deis("limits", *a)
    ).stdout == "=== lean Limits\n\n--- Memory\nUnlimited\n\n--- CPU\nUnlimited\n"
    memory = await deis("limits:set", "web=512M", "worker=0/1G", *a)
    assert memory.stdout == (
        "Applying limits... done\n\n=== lean Limits\n\n"
        "--- Memory\nweb        512M\nworker     0/1G\n\n--- CPU\nUnlimited\n"
    ), memory
    cpu = await deis("limits:set", "--cpu", "web=500m", *a)
    assert cpu.stdout.endswith("--- CPU\nweb     500m\n"), cpu
    bad = await deis("limits:set", "web=lots", *a)
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: web=lots doesn't fit format type=#unit or type=# or type=#/#")
    unset = await deis("limits:unset", "worker", *a)
    assert "worker" not in unset.stdout and "web     512M" in unset.stdout
    missing = await deis("limits:unset", "--cpu", "worker", *a)
    assert missing.returncode == 1 and "worker does not exist under cpu" in missing.stderr


async def test_tags_and_registry(deis, admin) -> None:
    assert (await deis("create", "placed", "--no-remote")).ok
    a = ("-a", "placed")
    assert (await deis("tags", *a)).stdout == "=== placed Tags\n"
    tagged = await deis("tags:set", "environ=prod", *a)
    assert tagged.ok or "No nodes matched the provided labels" in tagged.stderr, tagged
    invalid = await deis("tags:set", "bad key=x", *a)
    assert invalid.returncode == 1 and "Tag keys must be alphanumeric" in invalid.stderr

    no_port = await deis("registry:set", "username=bob", "password=s3cret", *a)
    assert no_port.returncode == 1
    assert "PORT needs to be set in the config when using a private registry" in no_port.stderr
    assert (await deis("config:set", "PORT=5000", *a)).ok
    creds = await deis("registry:set", "username=bob", "password=s3cret", *a)
    assert creds.stdout.endswith("=== placed Registry\npassword     s3cret\nusername     bob\n"), creds
    assert (await deis("registry:unset", "password", *a)).stdout.endswith(
        "=== placed Registry\nusername     bob\n"
    )
    wrong = await deis("registry:set", "hostname=r.example.com", *a)
    assert wrong.returncode == 1 and "hostname is not a valid registry key" in wrong.stderr


async def test_healthchecks_set_list_unset(deis, admin) -> None:
    assert (await deis("create", "healthy", "--no-remote")).ok
    a = ("-a", "healthy")
    assert (
        await deis("healthchecks", *a)
    ).stdout == "=== healthy Healthchecks\nNo health checks configured.\n"
    result = await deis(
        "healthchecks:set", "readiness", "httpGet", "5000", "--path=/ready", "--headers=X-Probe:yes", *a
    )
    assert result.ok, result
    assert result.stdout.startswith(
        "Applying readinessProbe healthcheck... done\n\n=== healthy Healthchecks\n\nweb/cmd:\n"
    )
    assert "--- Liveness\nNo liveness probe configured.\n" in result.stdout
    assert 'HTTP GET Probe: Path="/ready" Port=5000 HTTPHeaders=[X-Probe=yes]' in result.stdout
    assert "Initial Delay (seconds): 50" in result.stdout and "Failure Threshold: 3" in result.stdout

    liveness = await deis("healthchecks:set", "liveness", "exec", "--type=worker", *a, "--", "cat", "/tmp/ok")
    assert liveness.ok, liveness
    assert "worker:" in liveness.stdout and "Exec Probe: Command=['cat', '/tmp/ok']" in liveness.stdout
    tcp = await deis("healthchecks:set", "liveness", "tcpSocket", "5000", "--success-threshold=2", *a)
    assert tcp.returncode == 1 and "livenessProbe successThreshold can only be 1" in tcp.stderr

    unset = await deis("healthchecks:unset", "readiness", *a)
    assert unset.stdout.startswith("Removing healthchecks... done\n"), unset
    listed = (await deis("healthchecks:list", *a)).stdout
    assert "worker:" in listed and "Path=" not in listed
    missing = await deis("healthchecks:unset", "readiness", *a)
    assert (missing.returncode, missing.stderr) == (
        1,
        "Error: 422 Unprocessable Entity\nweb/cmd does not exist under healthcheck\n",
    ), missing
    never_set = await deis("healthchecks:unset", "liveness", "--type=web", *a)
    assert (never_set.returncode, never_set.stderr) == (
        1,
        "Error: 422 Unprocessable Entity\nweb does not exist under healthcheck\n",
    ), never_set
    assert (await deis("healthchecks:list", *a)).stdout == listed
