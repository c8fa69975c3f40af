"""Wiring of the builder service: SSH front door, hook socket, receive flow and build workers."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from deis_builder.build.buildpacks import toolchains
from deis_builder.build.dockerfile import DockerfileBuilder
from deis_builder.build.images import Buildah
from deis_builder.build.limits import MemoryLimit
from deis_builder.build.pull import ImagePuller
from deis_builder.build.registry import ImageRegistry
from deis_builder.build.sandbox import Network, Sandbox
from deis_builder.build.slugbuild import SlugBuilder
from deis_builder.build.worker import BuildWorker, build_router
from deis_builder.cleanup import Cleaner, cleanup_router
from deis_builder.metrics import BuilderMetrics
from deis_builder.push.controller import ControllerClient
from deis_builder.push.gitserve import GitServer
from deis_builder.push.hooks import HookServer, PushSessions
from deis_builder.push.locks import PushLocks
from deis_builder.push.receive import Receiver
from deis_builder.push.repos import Repos
from deis_builder.push.ssh import SshServer
from deis_builder.settings import BuilderSettings, Settings, parse_size
from deis_common import netns
from deis_common.service import Service
from deis_common.store import ObjectStore, open_store

_MAX_SOCKET_PATH = 100


def hook_socket_path(data_dir: Path) -> Path:
    """``<data dir>/hook.sock``, or a short path in the temp dir when that is too long for a unix socket."""
    path = data_dir.resolve() / "hook.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"deis-builder-{digest}.sock"


def build(settings: Settings) -> Service:
    service = Service("builder", settings)
    conf = settings.builder
    data = conf.data_dir
    data.mkdir(parents=True, exist_ok=True)
    if data.stat().st_uid == os.geteuid():  # not a volume's root that someone else owns
        data.chmod(0o700)  # other apps' sources and builds: not for the build user, nor any other
    store = open_store(settings.store)
    controller = ControllerClient(settings.controller_url, settings.builder_key)
    metrics = BuilderMetrics(service.registry)
    sessions = PushSessions()

    receiver = Receiver(service, store, controller, conf, metrics)
    hooks = HookServer(hook_socket_path(data), sessions, receiver)
    repos = Repos(data / "repos")
    git = GitServer(
        repos, PushLocks(conf.lock_timeout), sessions, hooks.socket_path, controller.check_access, metrics
    )
    ssh = SshServer(settings.ssh.host, settings.ssh.port, data / "host_keys", controller.key_owner, git)
    network = _network(conf)
    memory = MemoryLimit(parse_size(conf.build_memory_limit), owner=_installation(conf))
    sandbox = Sandbox(conf.sandbox_ro_paths, memory=memory, network=network, user=conf.build_user)
    buildah = Buildah(
        data, conf.buildah_storage_driver, conf.build_user, conf.sandbox_env_passthrough, network=network
    )
    registry = ImageRegistry(settings.registry, buildah)
    worker = BuildWorker(
        store,
        conf,
        metrics,
        SlugBuilder(
            store,
            sandbox,
            conf.sandbox_env_passthrough,
            private_dirs=_private_dirs(settings),
            toolchains=[t for t in (toolchains.go(conf.go_root),) if t is not None],
        ),
        DockerfileBuilder(store, buildah, registry, build_args=conf.docker_build_args),
        ImagePuller(store, buildah, registry, _private_dirs(settings)),
    )
    service.include_router(build_router(worker, conf.build_concurrency))
    service.include_router(cleanup_router(Cleaner(repos, store)))
    service.add_resource(lambda _: _clients(store, controller))
    service.add_resource(lambda _: buildah.prepared())
    if network is not None:
        service.add_resource(lambda _: _sandbox_networks(network))
    service.add_resource(lambda _: hooks.running())
    service.add_resource(lambda _: ssh.running())

    async def ssh_serving() -> bool:
        return ssh.serving

    async def store_answers() -> bool:
        await store.exists("builder", "readiness-probe")
        return True

    service.add_readiness_check("ssh", ssh_serving)
    service.add_readiness_check("store", store_answers)
    service.add_readiness_check("controller", controller.reachable)
    return service


def _network(conf: BuilderSettings) -> Network | None:
    """Build steps' networks (None: they share the builder's, where something else isolates it)."""
    if conf.network != "isolated":
        return None
    return Network(_installation(conf), conf.network_cidr)


def _installation(conf: BuilderSettings) -> str:
    """This builder's name for what it owns machine-wide (networks, cgroups): one per data dir."""
    return "builder-" + hashlib.sha256(str(conf.data_dir.resolve()).encode()).hexdigest()[:8]


@contextlib.asynccontextmanager
async def _sandbox_networks(network: Network) -> AsyncIterator[None]:
    """The firewall is in place before the first build; leftovers of a builder that died are removed."""
    await netns.setup(network.cidr)
    await netns.reap(network.owner, ())
    yield
    await netns.reap(network.owner, ())


def _private_dirs(settings: Settings) -> list[Path]:
    """Where other apps' sources and builds live on this host: never a buildpack source."""
    dirs = [settings.builder.data_dir]
    if settings.store.driver == "fs":
        dirs.append(settings.store.path)
    return dirs


@contextlib.asynccontextmanager
async def _clients(store: ObjectStore, controller: ControllerClient) -> AsyncIterator[None]:
    try:
        await store.ensure_bucket("builder")
        yield
    finally:
        await controller.close()
        await store.close()
