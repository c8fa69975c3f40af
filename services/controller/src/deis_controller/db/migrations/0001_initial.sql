-- The controller's state: users and their keys, apps and everything released, routed or attached to them.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    email         text NOT NULL DEFAULT '',
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    password      text NOT NULL,
    is_superuser  boolean NOT NULL DEFAULT false,
    is_staff      boolean NOT NULL DEFAULT false,
    is_active     boolean NOT NULL DEFAULT true,
    last_login    timestamptz,
    date_joined   timestamptz NOT NULL DEFAULT now(),
    token         text NOT NULL,
    token_digest  text NOT NULL UNIQUE
);

CREATE TABLE keys (
    uuid         uuid PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    owner        text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    public       text NOT NULL UNIQUE,
    fingerprint  text NOT NULL,
    created      timestamptz NOT NULL DEFAULT now(),
    updated      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX keys_fingerprint ON keys (fingerprint);

CREATE TABLE apps (
    uuid         uuid PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    owner        text NOT NULL REFERENCES users(username),
    structure    jsonb NOT NULL DEFAULT '{}',
    generation   bigint NOT NULL DEFAULT 0,
    processes    jsonb NOT NULL DEFAULT '[]',
    created      timestamptz NOT NULL DEFAULT now(),
    updated      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apps_owner ON apps (owner, id);

CREATE TABLE app_perms (
    app_uuid  uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    username  text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_uuid, username)
);
CREATE INDEX app_perms_user ON app_perms (username);

CREATE TABLE configs (
    uuid         uuid PRIMARY KEY,
    app_uuid     uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner        text NOT NULL REFERENCES users(username),
    "values"     jsonb NOT NULL DEFAULT '{}',
    memory       jsonb NOT NULL DEFAULT '{}',
    cpu          jsonb NOT NULL DEFAULT '{}',
    tags         jsonb NOT NULL DEFAULT '{}',
    registry     jsonb NOT NULL DEFAULT '{}',
    healthcheck  jsonb NOT NULL DEFAULT '{}',
    created      timestamptz NOT NULL DEFAULT now(),
    updated      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE builds (
    uuid        uuid PRIMARY KEY,
    app_uuid    uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner       text NOT NULL REFERENCES users(username),
    image       text NOT NULL,
    sha         text NOT NULL DEFAULT '',
    procfile    jsonb NOT NULL DEFAULT '{}',
    dockerfile  text NOT NULL DEFAULT '',
    build_id    text UNIQUE,
    artifact    jsonb,
    created     timestamptz NOT NULL DEFAULT now(),
    updated     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX builds_app ON builds (app_uuid, created DESC);

CREATE TABLE releases (
    uuid         uuid PRIMARY KEY,
    app_uuid     uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner        text NOT NULL REFERENCES users(username),
    version      integer NOT NULL,
    summary      text NOT NULL DEFAULT '',
    kind         text NOT NULL DEFAULT 'config',
    failed       boolean NOT NULL DEFAULT false,
    deployed     boolean NOT NULL DEFAULT false,
    generation   bigint NOT NULL DEFAULT 0,
    config_uuid  uuid NOT NULL REFERENCES configs(uuid),
    build_uuid   uuid REFERENCES builds(uuid),
    created      timestamptz NOT NULL DEFAULT now(),
    updated      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_uuid, version)
);

CREATE TABLE certificates (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    owner        text NOT NULL REFERENCES users(username),
    certificate  text NOT NULL,
    key          text NOT NULL,
    common_name  text,
    expires      timestamptz,
    starts       timestamptz,
    fingerprint  text NOT NULL,
    san          jsonb NOT NULL DEFAULT '[]',
    issuer       text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    created      timestamptz NOT NULL DEFAULT now(),
    updated      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domains (
    id              bigserial PRIMARY KEY,
    app_uuid        uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner           text NOT NULL REFERENCES users(username),
    domain          text NOT NULL UNIQUE,
    certificate_id  bigint REFERENCES certificates(id) ON DELETE SET NULL,
    created         timestamptz NOT NULL DEFAULT now(),
    updated         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_app ON domains (app_uuid, domain);

CREATE TABLE app_settings (
    uuid         uuid PRIMARY KEY,
    app_uuid     uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner        text NOT NULL REFERENCES users(username),
    maintenance  boolean NOT NULL DEFAULT false,
    routable     boolean NOT NULL DEFAULT true,
    whitelist    jsonb NOT NULL DEFAULT '[]',
    autoscale    jsonb NOT NULL DEFAULT '{}',
    label        jsonb NOT NULL DEFAULT '{}',
    created      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX app_settings_app ON app_settings (app_uuid, created DESC);

CREATE TABLE tls (
    uuid            uuid PRIMARY KEY,
    app_uuid        uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner           text NOT NULL REFERENCES users(username),
    https_enforced  boolean,
    created         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tls_app ON tls (app_uuid, created DESC);

-- Events written in the same transaction as the state change they announce; the publisher sends them.
CREATE TABLE outbox (
    seq       bigserial PRIMARY KEY,
    id        uuid NOT NULL UNIQUE,
    envelope  jsonb NOT NULL,
    created   timestamptz NOT NULL DEFAULT now(),
    sent      timestamptz
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent IS NULL;
