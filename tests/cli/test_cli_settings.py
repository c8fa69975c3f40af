"""maintenance, routing, tls, whitelist, labels and autoscale, through the installed `deis`."""

from __future__ import annotations


async def test_maintenance_routing_and_tls_switch_on_and_off(deis, admin) -> None:
    assert (await deis("create", "knobs", "--no-remote")).ok
    a = ("-a", "knobs")
    assert (await deis("maintenance", *a)).stdout == "Maintenance mode is off.\n"
    assert (await deis("maintenance:on", *a)).stdout == "Enabling maintenance mode for knobs... done\n"
    assert (await deis("maintenance:info", *a)).stdout == "Maintenance mode is on.\n"
    assert (await deis("maintenance:off", *a)).stdout == "Disabling maintenance mode for knobs... done\n"
    assert (await deis("maintenance:info", *a)).stdout == "Maintenance mode is off.\n"

    assert (await deis("routing", *a)).stdout == "Routing is enabled.\n"
    assert (await deis("routing:disable", *a)).stdout == "Disabling routing for knobs... done\n"
    assert (await deis("routing:info", *a)).stdout == "Routing is disabled.\n"
    assert (await deis("routing:enable", *a)).stdout == "Enabling routing for knobs... done\n"

    assert (await deis("tls", *a)).stdout == "=== knobs TLS\nHTTPS Enforced: not set\n"
    assert (await deis("tls:enable", *a)).stdout == "Enabling https-only requests for knobs... done\n"
    assert (await deis("tls:info", *a)).stdout == "=== knobs TLS\nHTTPS Enforced: true\n"
    again = await deis("tls:enable", *a)
    assert again.returncode == 1 and "changed nothing" in again.stderr
    assert (await deis("tls:disable", *a)).stdout == "Disabling https-only requests for knobs... done\n"
    assert (await deis("tls:info", *a)).stdout == "=== knobs TLS\nHTTPS Enforced: false\n"


async def test_whitelist_add_list_remove(deis, admin) -> None:
    assert (await deis("create", "guarded", "--no-remote")).ok
    a = ("-a", "guarded")
    added = await deis("whitelist:add", "10.0.0.1,192.168.0.0/16", *a)
    assert added.stdout == "Adding 10.0.0.1,192.168.0.0/16 to guarded whitelist... done\n", added
    assert (
        await deis("whitelist", *a)
    ).stdout == "=== guarded Whitelisted Addresses\n10.0.0.1\n192.168.0.0/16\n"
    bad = await deis("whitelist:add", "not-an-ip", *a)
    assert bad.returncode == 1 and "The address not-an-ip is not valid" in bad.stderr
    removed = await deis("whitelist:remove", "10.0.0.1", *a)
    assert removed.stdout == "Removing 10.0.0.1 from guarded whitelist... done\n"
    missing = await deis("whitelist:remove", "10.0.0.1", *a)
    assert missing.returncode == 1 and "422" in missing.stderr
    assert (await deis("whitelist:list", *a)).stdout == "=== guarded Whitelisted Addresses\n192.168.0.0/16\n"


async def test_labels_set_list_unset(deis, admin) -> None:
    assert (await deis("create", "tagged", "--no-remote")).ok
    a = ("-a", "tagged")
    assert (await deis("labels", *a)).stdout == "=== tagged Label\nNo labels found.\n"
    result = await deis("labels:set", "team=frontend", "git_repo=https://example.com/web", *a)
    assert result.stdout == (
        "Applying labels... done\n\n=== tagged Label\ngit_repo  https://example.com/web\nteam      frontend\n"
    ), result
    unset = await deis("labels:unset", "team", *a)
    assert unset.stdout.endswith("=== tagged Label\ngit_repo  https://example.com/web\n")
    missing = await deis("labels:unset", "team", *a)
    assert missing.returncode == 1 and "422" in missing.stderr
    malformed = await deis("labels:set", "novalue", *a)
    assert malformed.returncode == 1


async def test_autoscale_set_list_unset(deis, admin) -> None:
    assert (await deis("create", "elastic", "--no-remote")).ok
    a = ("-a", "elastic")
    assert (await deis("autoscale", *a)).stdout == "=== elastic Autoscale\nNo autoscale policies found.\n"
    result = await deis("autoscale:set", "web", "--min=2", "--max=5", "--cpu-percent=70", *a)
    assert result.stdout == "Applying autoscale settings for process type web on elastic... done\n", result
    assert (await deis("autoscale:list", *a)).stdout == (
        "=== elastic Autoscale\n\n--- web:\nMin Replicas: 2\nMax Replicas: 5\nCPU: 70%\n"
    )
    inverted = await deis("autoscale:set", "web", "--min=3", "--max=1", "--cpu-percent=70", *a)
    assert inverted.returncode == 1
    assert (
        await deis("autoscale:unset", "web", *a)
    ).stdout == "Removing autoscale for process type web on elastic... done\n"
    assert "No autoscale policies found." in (await deis("autoscale", *a)).stdout
