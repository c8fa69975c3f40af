"""A network namespace of its own for every app process, one-off run and build (ARCHITECTURE §6, §11).

Each sandbox gets a *lease*: a named network namespace (``/run/netns/deis-sbx-<n>``) joined to the host by a
veth pair on a /30 of its own (``10.213.0.0/16`` by default: the host side ``.1``, the sandbox ``.2``, its
default route). Inside, the sandbox has its own loopback and may bind any port, low ones included, without
privileges; its address is what the router and probes connect to. Nothing of the host's loopback is in
there: NATS, PostgreSQL, the services and the store are simply not reachable.

A machine-wide nftables table (``inet deis_sandbox``, the same for every installation on the machine) does
the rest, on interfaces named ``dz<n>``:

- *input*: a sandbox reaches none of the host's own addresses (only replies to the host's connections), but
  the router's ports (set ``router_ports``): apps reach each other through the router's public address;
- *forward*: sandbox to sandbox is refused (apps meet only through the router); sandbox to the outside world
  is allowed and masqueraded (registries, APIs); nothing from outside enters a sandbox (dropped).

What a sandbox may not reach is refused at once (a TCP reset, an ICMP "administratively prohibited"), not
dropped: a client inside fails fast ("connection refused") instead of waiting out its timeout, so a build that
tries such an address does not hold a build slot for minutes.

Why veth pairs and routing rather than user-mode networking (slirp4netns, pasta): the router connects to
each process at a real address with kernel forwarding (no user-space copy per request, no extra process per
sandbox), and the host's addresses are cut off by the kernel's firewall, which user-mode stacks (that open
sockets *on the host* for the sandbox) cannot do. It needs root (CAP_NET_ADMIN), which the embedded
platform's scheduler and builder have; without it, :func:`available` says why.

A lease is also an allocation: the namespace file is created exclusively, so concurrent allocators (two
installations, a scheduler and a builder) never get the same number. Its owner (the installation) is
recorded next to it in ``/run/deis-netns/``, so leftovers of one installation can be reaped at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import random
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NETNS_DIR = Path("/run/netns")
OWNERS_DIR = Path("/run/deis-netns")
PREFIX = "deis-sbx-"
IFACE = "dz"
DEFAULT_CIDR = "10.213.0.0/16"
TABLE = "deis_sandbox"

FIREWALL = f"""
add table inet {TABLE}
add chain inet {TABLE} input {{ type filter hook input priority filter - 10; policy accept; }}
add chain inet {TABLE} forward {{ type filter hook forward priority filter - 10; policy accept; }}
add chain inet {TABLE} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}
add set inet {TABLE} router_ports {{ type inet_service; }}
flush chain inet {TABLE} input
flush chain inet {TABLE} forward
flush chain inet {TABLE} postrouting
add rule inet {TABLE} input iifname "{IFACE}*" ct state established,related accept
add rule inet {TABLE} input iifname "{IFACE}*" tcp dport @router_ports accept
add rule inet {TABLE} input iifname "{IFACE}*" meta l4proto tcp reject with tcp reset
add rule inet {TABLE} input iifname "{IFACE}*" reject with icmpx type admin-prohibited
add rule inet {TABLE} forward iifname "{IFACE}*" oifname "{IFACE}*" meta l4proto tcp reject with tcp reset
add rule inet {TABLE} forward iifname "{IFACE}*" oifname "{IFACE}*" reject with icmpx type admin-prohibited
add rule inet {TABLE} forward iifname "{IFACE}*" meta nfproto ipv4 accept
add rule inet {TABLE} forward iifname "{IFACE}*" drop
add rule inet {TABLE} forward oifname "{IFACE}*" ct state established,related accept
add rule inet {TABLE} forward oifname "{IFACE}*" drop
add rule inet {TABLE} postrouting iifname "{IFACE}*" oifname != "{IFACE}*" masquerade
"""


class NetworkError(RuntimeError):
    """A sandbox network could not be set up (not root, iproute2 or nftables missing, addresses exhausted)."""


@dataclass(frozen=True)
class Lease:
    """One sandbox's network: a namespace, its veth and its /30."""

    index: int
    cidr: str = DEFAULT_CIDR

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.index}"

    @property
    def path(self) -> str:
        return str(NETNS_DIR / self.name)

    @property
    def host_iface(self) -> str:
        return f"{IFACE}{self.index}"

    @property
    def gateway(self) -> str:
        """The host's side of the pair (the sandbox's default route)."""
        return str(_base(self.cidr, self.index) + 1)

    @property
    def address(self) -> str:
        """The sandbox's own address: where the router and probes reach its processes."""
        return str(_base(self.cidr, self.index) + 2)

    def enter(self) -> list[str]:
        """argv prefix that runs a command inside this namespace (as root: it needs CAP_SYS_ADMIN)."""
        return [_tool("nsenter"), f"--net={self.path}", "--"]


def _base(cidr: str, index: int) -> ipaddress.IPv4Address:
    network = ipaddress.IPv4Network(cidr)
    if index < 0 or index >= capacity(cidr):
        raise NetworkError(f"lease {index} is outside {cidr}")
    return network.network_address + 4 * index


def capacity(cidr: str) -> int:
    """How many sandboxes fit in ``cidr`` (a /30 each)."""
    return int(ipaddress.IPv4Network(cidr).num_addresses // 4)


def available() -> str | None:
    """None when sandbox networks can be made here; otherwise why not."""
    if os.geteuid() != 0:
        return "sandbox networks need root (CAP_NET_ADMIN) to create network namespaces"
    for tool in ("ip", "nft", "nsenter"):
        if _which(tool) is None:
            return f"{tool} is not installed (Debian packages iproute2, nftables, util-linux)"
    return None


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def _tool(name: str) -> str:
    path = _which(name)
    if path is None:
        raise NetworkError(f"{name} is not installed (Debian packages iproute2, nftables, util-linux)")
    return path


def _write(path: str | Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


async def _run(argv: list[str], stdin: str | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if proc.returncode != 0:
        raise NetworkError(f"{' '.join(argv[:3])}: {err.decode(errors='replace').strip()}")


async def setup(cidr: str = DEFAULT_CIDR, router_ports: Iterable[int] = ()) -> None:
    """Turn on forwarding and install the firewall; idempotent, safe to run from several installations.

    ``router_ports``: where the router listens on the host; sandboxes may connect to them (on any host
    address the router listens on; with a router bound to loopback only, apps do not reach each other).
    """
    reason = available()
    if reason is not None:
        raise NetworkError(reason)
    ports = ", ".join(str(int(port)) for port in router_ports)
    elements = f"add element inet {TABLE} router_ports {{ {ports} }}\n" if ports else ""
    await _run([_tool("nft"), "-f", "-"], FIREWALL + elements)
    # Addresses of the range without a sandbox (one that stopped) are unreachable here, never sent on to
    # the host's default route; each sandbox's own /30 route is more specific.
    await _run([_tool("ip"), "route", "replace", "unreachable", cidr])
    _write("/proc/sys/net/ipv4/ip_forward", "1\n")


async def allocate(owner: str, cidr: str = DEFAULT_CIDR) -> Lease:
    """A new namespace with its veth pair, addresses and route, recorded as ``owner``'s."""
    os.makedirs(NETNS_DIR, exist_ok=True)
    os.makedirs(OWNERS_DIR, mode=0o700, exist_ok=True)
    size = capacity(cidr)
    taken = set(os.listdir(NETNS_DIR))
    start = random.randrange(size)  # spread allocators out: fewer collisions between installations
    for offset in range(size):
        index = (start + offset) % size
        if f"{PREFIX}{index}" in taken:
            continue
        lease = Lease(index, cidr)
        try:
            await _run([_tool("ip"), "netns", "add", lease.name])
        except NetworkError:
            continue  # taken between the look and the create
        _write(OWNERS_DIR / lease.name, owner)
        try:
            await _configure(lease)
        except BaseException:
            await release(lease)
            raise
        return lease
    raise NetworkError(f"no free sandbox address left in {cidr}")


async def _configure(lease: Lease) -> None:
    ip = _tool("ip")
    host, inside = lease.host_iface, lease.address
    # A stale host end (its namespace died without the pair) would block the name.
    with contextlib.suppress(NetworkError):
        await _run([ip, "link", "del", host])
    await _run(
        [ip, "-batch", "-"],
        f"link add {host} type veth peer name eth0 netns {lease.name}\n"
        f"addr add {lease.gateway}/30 dev {host}\n"
        f"link set {host} up\n",
    )
    await _run(
        [ip, "-n", lease.name, "-batch", "-"],
        f"addr add {inside}/30 dev eth0\n"
        "link set lo up\n"
        "link set eth0 up\n"
        f"route add default via {lease.gateway}\n",
    )
    # No IPv6 on the pair: link-local addresses would otherwise reach the host's IPv6 listeners.
    with contextlib.suppress(OSError):
        _write(f"/proc/sys/net/ipv6/conf/{host}/disable_ipv6", "1\n")
    # Inside: any port may be bound without privileges (an image's nginx on :80), and no IPv6 either.
    await _run([*lease.enter(), "/bin/sh", "-c", _INSIDE])


_INSIDE = (
    "echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && "
    "{ echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; true; } 2>/dev/null"
)


async def release(lease: Lease) -> None:
    """Remove the namespace and its pair (processes still inside lose their network)."""
    ip = _tool("ip")
    with contextlib.suppress(NetworkError):
        await _run([ip, "link", "del", lease.host_iface])
    with contextlib.suppress(NetworkError):
        await _run([ip, "netns", "del", lease.name])
    with contextlib.suppress(FileNotFoundError):
        os.unlink(OWNERS_DIR / lease.name)


def owned_by(owner: str) -> list[int]:
    """Lease numbers recorded as ``owner``'s."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in OWNERS_DIR.iterdir():
            if not entry.name.startswith(PREFIX):
                continue
            with contextlib.suppress(OSError, ValueError):
                if entry.read_text() == owner:
                    found.append(int(entry.name[len(PREFIX) :]))
    return sorted(found)


async def reap(owner: str, keep: Iterable[int], cidr: str = DEFAULT_CIDR) -> int:
    """Release ``owner``'s leases that are not in ``keep`` (leftovers of processes that are gone)."""
    kept = set(keep)
    stale = [Lease(index, cidr) for index in owned_by(owner) if index not in kept]
    for lease in stale:
        await release(lease)
    return len(stale)
