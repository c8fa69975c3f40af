"""Many apps at once, straight in the controller's database: for scale tests and the control-plane bench.

Each app gets what a real one has after its first deploy: an owner, ``web=1``, a config of ``env_vars``
realistic variables (URLs, keys), a buildpack build, release v1 at generation 1, two custom domains and
its routing settings. Rows are made by Postgres itself (``INSERT ... SELECT FROM generate_series``), so
100,000 apps take seconds, not the hours the API would. Names are ``<prefix>-<n, 6 digits>``.
"""

from __future__ import annotations

import json

from deis_controller.db import Database


def config_values(env_vars: int) -> str:
    """A JSON object of ``env_vars`` variables, with ``@N@`` where the app's number goes."""
    values = {
        "DATABASE_URL": "postgres://app_@N@:s3cr3t-password-@N@@db.internal.example.com:5432/app_@N@",
        "REDIS_URL": "redis://cache.internal.example.com:6379/@N@",
        "SECRET_KEY_BASE": "f" * 64,
    }
    for index in range(len(values), env_vars):
        values[f"SETTING_{index:02d}"] = f"value-{index}-for-app-@N@-" + "x" * 24
    return json.dumps(values)


async def seed_apps(
    db: Database,
    *,
    owner: str,
    count: int,
    prefix: str = "app",
    env_vars: int = 20,
    start: int = 1,
    simulated_endpoints: bool = False,
) -> list[str]:
    """Create ``count`` deployed apps owned by ``owner`` (who must exist); their names, in order.

    ``simulated_endpoints``: record each app's web endpoint as the scheduler's simulated backend reports
    it (``simulated_port``), as if every app had been deployed and reported healthy at generation 1.
    """
    last = start + count - 1
    name = f"'{prefix}-' || lpad(n::text, 6, '0')"
    key = f"'{prefix}-' || n"
    series = "FROM generate_series($1::int, $2::int) AS n"
    async with db.transaction() as tx:
        await tx.run(
            "INSERT INTO apps (uuid, id, owner, structure, generation)"
            f" SELECT md5('app:' || {key})::uuid, {name}, $3, '{{\"web\": 1}}', 1 {series}",
            start,
            last,
            owner,
        )
        await tx.run(
            'INSERT INTO configs (uuid, app_uuid, owner, "values", healthcheck)'
            f" SELECT md5('config:' || {key})::uuid, md5('app:' || {key})::uuid, $3,"
            f" replace($4, '@N@', n::text)::jsonb, '{{}}' {series}",
            start,
            last,
            owner,
            config_values(env_vars),
        )
        await tx.run(
            "INSERT INTO builds (uuid, app_uuid, owner, image, sha, procfile)"
            f" SELECT md5('build:' || {key})::uuid, md5('app:' || {key})::uuid, $3,"
            f" 'home/' || {name} || ':git-1a2b3c4d/push/slug.tgz', '1a2b3c4d',"
            f' \'{{"web": "bin/web --port $PORT", "worker": "bin/worker"}}\' {series}',
            start,
            last,
            owner,
        )
        await tx.run(
            "INSERT INTO releases (uuid, app_uuid, owner, version, summary, kind, deployed, generation,"
            " config_uuid, build_uuid)"
            f" SELECT md5('release:' || {key})::uuid, md5('app:' || {key})::uuid, $3, 1,"
            f" $3 || ' deployed 1a2b3c4d', 'build', true, 1,"
            f" md5('config:' || {key})::uuid, md5('build:' || {key})::uuid {series}",
            start,
            last,
            owner,
        )
        await tx.run(
            "INSERT INTO domains (app_uuid, owner, domain)"
            f" SELECT md5('app:' || {key})::uuid, $3, d || '.' || {name} || '.customer-domain.example.com'"
            f" {series}, unnest(ARRAY['www', 'api']) AS d",
            start,
            last,
            owner,
        )
        await tx.run(
            "INSERT INTO app_settings (uuid, app_uuid, owner, whitelist)"
            f" SELECT md5('settings:' || {key})::uuid, md5('app:' || {key})::uuid, $3,"
            f' \'["10.0.0.0/8", "192.168.0.0/16"]\' {series}',
            start,
            last,
            owner,
        )
        if simulated_endpoints:
            await tx.run(
                "UPDATE apps SET endpoints_generation = 1, endpoints = jsonb_build_array('127.0.0.1:'"
                " || 20000 + ('x' || substr(md5(id), 1, 7))::bit(28)::int % 40000)"
                " WHERE id >= $1 AND id <= $2",
                f"{prefix}-{start:06d}",
                f"{prefix}-{last:06d}",
            )
    return [f"{prefix}-{n:06d}" for n in range(start, last + 1)]
