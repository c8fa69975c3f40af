-- The endpoints the scheduler last reported healthy for each app, and their generation: the controller
-- snapshot hands them to a new router replica, which then needs no replay of containers.healthy.
ALTER TABLE apps ADD COLUMN endpoints jsonb NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN endpoints_generation integer NOT NULL DEFAULT 0;
