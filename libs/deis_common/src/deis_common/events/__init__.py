"""Every domain event of the platform, one module per family (``deis_common.events.builds`` …)."""

from deis_common.events.apps import (
    AppCreated,
    AppDestroyed,
    AppScaled,
    RestartRequested,
    RunRequested,
    SettingsChanged,
)
from deis_common.events.backups import BackupCompleted, BackupFailed
from deis_common.events.base import Envelope, Event, Model
from deis_common.events.builds import BuildCompleted, BuildFailed, BuildStarted, build_log_subject
from deis_common.events.certs import CertAttached, CertDetached
from deis_common.events.containers import ContainersAutoscaled, ContainersCrashed, ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_common.events.pushes import PushReceived
from deis_common.events.releases import ReleaseCreated, ReleaseDeployed, ReleaseRejected
from deis_common.events.routes import RoutesRejected, RoutesUpdated
from deis_common.events.runs import RunFinished
from deis_common.events.state import (
    AppSnapshot,
    AppState,
    BuildArtifact,
    CertBinding,
    ImageConfig,
    ProcessInfo,
    RouteSettings,
)

__all__ = [
    "AppCreated",
    "AppDestroyed",
    "AppScaled",
    "AppSnapshot",
    "AppState",
    "BackupCompleted",
    "BackupFailed",
    "BuildArtifact",
    "BuildCompleted",
    "BuildFailed",
    "BuildStarted",
    "CertAttached",
    "CertBinding",
    "CertDetached",
    "ContainersAutoscaled",
    "ContainersCrashed",
    "ContainersHealthy",
    "DeployFailed",
    "DomainAdded",
    "DomainRemoved",
    "Envelope",
    "Event",
    "ImageConfig",
    "Model",
    "ProcessInfo",
    "PushReceived",
    "ReleaseCreated",
    "ReleaseDeployed",
    "ReleaseRejected",
    "RestartRequested",
    "RouteSettings",
    "RoutesRejected",
    "RoutesUpdated",
    "RunFinished",
    "RunRequested",
    "SettingsChanged",
    "build_log_subject",
]
