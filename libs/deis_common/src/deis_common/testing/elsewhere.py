"""A stand-in for a machine elsewhere on the network: a namespace with an address that is not this host's.

Tests of tenant isolation need servers (an image registry, a package index) that sandboxes reach the way
they reach one on the internet: routed by the host, then forwarded and masqueraded by the sandbox firewall
(the ``forward`` and ``postrouting`` chains of :mod:`deis_common.netns`). A server on loopback or on one of
the host's addresses is what sandboxes must *not* reach (the ``input`` chain drops it), so it cannot stand
in for a remote one.

:func:`remote_host` makes a network namespace joined to the host by a veth pair on a /30 of
``198.18.0.0/15`` (RFC 2544: set aside for network tests, routed nowhere): the host's side ``.1``, the
remote's ``.2`` with its default route back through the host. The host's interface is ``dr<n>``, never the
sandboxes' ``dz`` prefix, which the firewall treats as a sandbox. The namespace file is created exclusively,
so concurrent test runs never share one. Everything goes on exit; stop the processes started inside first.
Needs root (CAP_NET_ADMIN), as sandbox networks do.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from deis_common import netns

CIDR = "198.18.0.0/15"
PREFIX = "deis-remote-"
IFACE = "dr"


@dataclass(frozen=True)
class RemoteHost:
    """A namespace standing in for a machine on the internet."""

    name: str
    address: str  # where the rest of the world (sandboxes too) reaches it
    gateway: str  # the host's side of the pair

    def enter(self) -> list[str]:
        """argv prefix that runs a command on the remote host (its network; the files stay this host's)."""
        return [_tool("nsenter"), f"--net=/run/netns/{self.name}", "--"]


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        raise FileNotFoundError(f"{name} is not installed (Debian packages iproute2, util-linux)")
    return path


def _ip(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("ip"), *args], input=stdin, capture_output=True, text=True, check=False)


@contextlib.contextmanager
def remote_host() -> Iterator[RemoteHost]:
    """A new remote host, removed (namespace, veth pair and routes) on exit."""
    reason = netns.available()
    if reason is not None:
        raise RuntimeError(f"a remote host needs a network namespace: {reason}")
    network = ipaddress.IPv4Network(CIDR)
    size = network.num_addresses // 4
    start = random.randrange(size)
    for offset in range(size):
        index = (start + offset) % size
        name = f"{PREFIX}{index}"
        if _ip("netns", "add", name).returncode == 0:  # taken (another run's) otherwise
            break
    else:
        raise RuntimeError(f"no free remote host address left in {CIDR}")
    base = network.network_address + 4 * index
    host = RemoteHost(name=name, address=str(base + 2), gateway=str(base + 1))
    iface = f"{IFACE}{index}"
    try:
        _ip("link", "del", iface)  # a leftover of a run that died
        for args, stdin in (
            (
                ("-batch", "-"),
                f"link add {iface} type veth peer name eth0 netns {name}\n"
                f"addr add {host.gateway}/30 dev {iface}\n"
                f"link set {iface} up\n",
            ),
            (
                ("-n", name, "-batch", "-"),
                f"addr add {host.address}/30 dev eth0\n"
                "link set lo up\n"
                "link set eth0 up\n"
                f"route add default via {host.gateway}\n",
            ),
        ):
            made = _ip(*args, stdin=stdin)
            if made.returncode != 0:
                raise RuntimeError(f"cannot make the remote host {name}: {made.stderr.strip()}")
        yield host
    finally:
        _ip("link", "del", iface)
        _ip("netns", "del", name)
