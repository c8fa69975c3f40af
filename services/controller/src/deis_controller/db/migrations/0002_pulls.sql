-- Image builds (deis pull) handed to the builder, waiting for its BuildCompleted: who asked, with which Procfile.
CREATE TABLE pulls (
    build_id  text PRIMARY KEY,
    app_uuid  uuid NOT NULL REFERENCES apps(uuid) ON DELETE CASCADE,
    owner     text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    procfile  jsonb NOT NULL DEFAULT '{}',
    created   timestamptz NOT NULL DEFAULT now()
);
