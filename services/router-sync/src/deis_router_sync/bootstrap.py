"""``deis-router-bootstrap``: write router-sync's config before nginx starts (the launcher runs it).

The launcher's supervisor starts nginx before router-sync; this gives nginx router-sync's own config from
the start: the routes router-sync saved last (``routes.json``), or none when there are none or nginx
refuses them (unknown hosts 404, ``deis.<domain>`` to the controller, the status server). ``--force``
rewrites it, for when the ports or the platform domain changed; without it, a config router-sync wrote
is left alone. It reads the same ``DEIS_`` settings as the service.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from deis_router_sync.nginx import ConfigRejected, Nginx, prepare_prefix
from deis_router_sync.render import Renderer
from deis_router_sync.routes import RouteTable
from deis_router_sync.settings import RouterSyncSettings

WRITTEN_BY = "# Written by router-sync"


async def write_bootstrap(settings: RouterSyncSettings, *, force: bool = False) -> Path | None:
    """Render, check and install the config; None when router-sync's config is already there."""
    renderer = Renderer(settings.router, settings.platform_domain)
    paths = renderer.paths
    if not force and paths.conf.exists() and paths.conf.read_text().startswith(WRITTEN_BY):
        return None
    prepare_prefix(paths)
    nginx = Nginx(settings.router)
    try:
        saved = RouteTable.load(paths.table)
        rendered = renderer.render(saved, "bootstrap")
        await nginx.check(rendered.text, rendered.files)
    except (ValueError, ConfigRejected):
        rendered = renderer.render(RouteTable(), "bootstrap")
        await nginx.check(rendered.text, rendered.files)
    nginx.install()
    return paths.conf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deis-router-bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite a config router-sync wrote")
    args = parser.parse_args(argv)
    try:
        written = asyncio.run(write_bootstrap(RouterSyncSettings(), force=args.force))
    except ConfigRejected as e:
        print(f"nginx refused the bootstrap config: {e}", file=sys.stderr)
        return 1
    print(f"wrote {written}" if written else "router-sync's config is already in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
