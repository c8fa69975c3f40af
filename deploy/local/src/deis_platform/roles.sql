-- The platform's database roles (ARCHITECTURE §11), run by psql as the superuser each time the server
-- starts: by deis-platform (deploy/local) and by the chart's Postgres pod. This is the one copy: it ships in
-- the deis-platform wheel, and deploy/helm/workflow/files/roles.sql is a symlink to it (Helm follows it when
-- it loads the chart from a checkout, and `helm package` stores its contents).
--
--   deis         owns the deis database and everything in it; the controller. No other right.
--   deis_backup  REPLICATION for pg_basebackup, CONNECT to deis for pg_stat_archiver; the backup service.
--
-- Idempotent. A database made by an older version (as the superuser, which also owned every table)
-- is handed to deis. The passwords come from the environment, plain or as SCRAM verifiers, never from
-- the command line; and the statements that carry them are never logged.
\set ON_ERROR_STOP on
\getenv controller_password DATABASE_CONTROLLER_PASSWORD
\getenv backup_password DATABASE_BACKUP_PASSWORD
SET log_statement = 'none';
SET log_min_error_statement = 'panic';

SELECT 'CREATE ROLE deis' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'deis') \gexec
SELECT 'CREATE ROLE deis_backup' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'deis_backup') \gexec
ALTER ROLE deis WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'controller_password';
ALTER ROLE deis_backup WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS
  PASSWORD :'backup_password';

SELECT 'CREATE DATABASE deis OWNER deis' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'deis')
\gexec
ALTER DATABASE deis OWNER TO deis;
REVOKE ALL ON DATABASE deis FROM PUBLIC;
GRANT CONNECT ON DATABASE deis TO deis_backup;

\connect deis
DO $$
DECLARE
  statement text;
BEGIN
  -- relations first (a table takes the sequences of its serial and identity columns along), then what
  -- is left: free-standing sequences, schemas, routines and types
  FOR statement IN
    SELECT format('ALTER %s %s OWNER TO deis',
                  CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                 WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                                 ELSE 'TABLE' END,
                  c.oid::regclass)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relowner <> 'deis'::regrole
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
      AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
    ORDER BY c.relkind = 'S'
  LOOP
    EXECUTE statement;
  END LOOP;
  FOR statement IN
    SELECT format('ALTER SCHEMA %I OWNER TO deis', n.nspname)
    FROM pg_namespace n
    WHERE n.nspowner NOT IN ('deis'::regrole, 'pg_database_owner'::regrole)
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
    UNION ALL
    SELECT format('ALTER ROUTINE %s OWNER TO deis', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.proowner <> 'deis'::regrole
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT format('ALTER TYPE %s OWNER TO deis', t.oid::regtype)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typowner <> 'deis'::regrole
      AND t.typtype IN ('e', 'd', 'r')
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  LOOP
    EXECUTE statement;
  END LOOP;
END
$$;
