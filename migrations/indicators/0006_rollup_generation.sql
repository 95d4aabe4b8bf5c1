-- Rollups keep the index they build of a unit's observations between requests (the country's
-- holds every observation of the indicator); `rollup_generation` says when it is stale. It counts
-- the writes to an indicator's observations: the statement triggers below bump it in the writing
-- transaction, for every indicator the statement touched (TRUNCATE: all). A reader reads the
-- generation before the rows and keeps what it built with the generation it read
-- (roadmap_indicators::cache), so a kept index is never older than its generation; no row means
-- generation 0. The functions keep the schema's search path, so a write through any connection
-- (`indicators.observation`) finds the table.
CREATE TABLE rollup_generation (
    indicator_id  uuid PRIMARY KEY REFERENCES indicator (id) ON DELETE CASCADE,
    generation    bigint NOT NULL DEFAULT 0
);

-- Bumps the generation of each of `changed` (in id order: concurrent writers lock rows alike).
CREATE FUNCTION rollup_generation_bump(changed uuid[]) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF changed IS NULL OR cardinality(changed) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO rollup_generation (indicator_id, generation)
    SELECT DISTINCT id, 1 FROM unnest(changed) AS c(id) ORDER BY id
    ON CONFLICT (indicator_id) DO UPDATE SET generation = rollup_generation.generation + 1;
END $$;

CREATE FUNCTION rollup_observations_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM rollup_generation_bump(ARRAY(SELECT DISTINCT indicator_id FROM new_rows));
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_observations_updated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM rollup_generation_bump(ARRAY(
        SELECT indicator_id FROM old_rows UNION SELECT indicator_id FROM new_rows));
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_observations_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM rollup_generation_bump(ARRAY(SELECT DISTINCT indicator_id FROM old_rows));
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_observations_truncated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM rollup_generation_bump(ARRAY(SELECT id FROM indicator));
    RETURN NULL;
END $$;

CREATE TRIGGER rollup_observations_inserted AFTER INSERT ON observation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_observations_inserted();
CREATE TRIGGER rollup_observations_updated AFTER UPDATE ON observation
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_observations_updated();
CREATE TRIGGER rollup_observations_deleted AFTER DELETE ON observation
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_observations_deleted();
CREATE TRIGGER rollup_observations_truncated AFTER TRUNCATE ON observation
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_observations_truncated();
