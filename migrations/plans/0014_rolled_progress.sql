-- Rolled-up progress, stored (the rule and the reasons: services/plans/src/cascade.rs), so that
-- `Measure.rolledProgress` reads a row instead of walking the measure's cascade down on every
-- request (a federal measure of the national cascade reaches ~600,000 links).
--
-- What is stored is the one part of the rule that depends on other measures: for each measure
-- with confirmed implementers that are not cancelled, the weighted mean of their rolled-up
-- progress (`measure_rollup.mean`; no row when there is none). A measure's rolled-up
-- progress is then `measure_rolled_rule(status, progress, mean)`, computed where it is read. A
-- new measure has no implementers, hence no row: inserts (a COPY of 2 million measures) cost
-- nothing, and the measure rows themselves are never rewritten (`updated_at`, the measure
-- table's indexes and its statement triggers are not involved).
--
-- Kept exact by triggers, whoever writes (mutations, the importer, SQL by hand):
-- - a change of a measure's status, progress or weight that changes what it gives the measures
--   it implements, and a confirmed link added, removed (a deleted measure's links go with it) or
--   confirmed or unconfirmed, recompute the means of the measures above, then theirs where the
--   mean changed and the measure is neither done nor cancelled, round by round
--   (`measure_rolled_refresh`): stopping where nothing changes, and after 32 rounds in any case
--   (links never close a cycle, `linkMeasures` refuses it; the bound is for safety, like the
--   outbox's walk up);
-- - concurrent writers: a round locks the measures whose means it recomputes (their rows, FOR
--   NO KEY UPDATE) before it reads their implementers, with a new snapshot per statement (READ
--   COMMITTED): of two transactions that change implementers of one measure, the second to
--   lock it sees the first's change.
--
-- Bulk loads: with `roadmap.rolled_progress` set to `deferred` in the transaction
-- (`set_config('roadmap.rolled_progress', 'deferred', true)`) the triggers do nothing (their WHEN
-- clause: no function is called per row or link of a COPY) and the loader calls
-- `measure_rolled_rebuild()` before it commits: every mean computed set-based, bottom-up by plan
-- level, then whole rounds until nothing changes. This migration runs it once for the measures
-- already there.
CREATE TABLE measure_rollup (
    measure_id  uuid PRIMARY KEY REFERENCES measure (id) ON DELETE CASCADE,
    mean        numeric NOT NULL
);

-- The rule for one measure, given the weighted mean of its confirmed implementers' rolled-up
-- progress (NULL when none counts): DONE counts 100, CANCELLED is left out (NULL), otherwise
-- the implementers' mean, else the reported progress, else 0. Inlined where it is called.
CREATE FUNCTION measure_rolled_rule(status text, progress numeric, implementers numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE $1 WHEN 'CANCELLED' THEN NULL WHEN 'DONE' THEN 100 ELSE COALESCE($3, $2, 0) END
$$;

-- The weighted mean of the rolled-up progress of a measure's confirmed implementers that are
-- not cancelled, as stored now; NULL when there is none (weights are positive).
CREATE FUNCTION measure_rolled_implementers(implemented uuid) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT sum(x.value * x.weight) / sum(x.weight)
      FROM (SELECT measure_rolled_rule(c.status, c.progress, mr.mean) AS value, c.weight
              FROM measure_link l JOIN measure c ON c.id = l.measure_id
              LEFT JOIN measure_rollup mr ON mr.measure_id = c.id
             WHERE l.implements_id = $1 AND l.state = 'CONFIRMED') x
     WHERE x.value IS NOT NULL
$$;

-- Recomputes the means of `ids`, then of the measures above those whose rolled-up progress
-- changed, round by round.
CREATE FUNCTION measure_rolled_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    rounds int := 0;
BEGIN
    WHILE cardinality(ids) > 0 AND rounds < 32 LOOP
        rounds := rounds + 1;
        -- Locked first: the next statement's snapshot then holds every change committed by a
        -- transaction that recomputed these measures before this one.
        PERFORM 1 FROM measure WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
        WITH fresh AS (
            SELECT m.id, m.status, measure_rolled_implementers(m.id) AS mean FROM measure m WHERE m.id = ANY(ids)
        ), gone AS (
            DELETE FROM measure_rollup mr USING fresh f
             WHERE mr.measure_id = f.id AND f.mean IS NULL
            RETURNING mr.measure_id
        ), written AS (
            INSERT INTO measure_rollup (measure_id, mean)
            SELECT id, mean FROM fresh WHERE mean IS NOT NULL
            ON CONFLICT (measure_id) DO UPDATE SET mean = EXCLUDED.mean
             WHERE measure_rollup.mean IS DISTINCT FROM EXCLUDED.mean
            RETURNING measure_id
        )
        -- A done or cancelled measure's own value does not follow its implementers.
        SELECT array_agg(DISTINCT l.implements_id) INTO ids
          FROM (SELECT measure_id FROM gone UNION ALL SELECT measure_id FROM written) c
          JOIN fresh f ON f.id = c.measure_id AND f.status NOT IN ('DONE', 'CANCELLED')
          JOIN measure_link l ON l.measure_id = c.measure_id AND l.state = 'CONFIRMED';
    END LOOP;
END $$;

-- Every mean from scratch, in one transaction that writers wait for (readers do not); returns
-- how many stored rows it changed (written or removed).
CREATE FUNCTION measure_rolled_rebuild() RETURNS bigint LANGUAGE plpgsql
    SET search_path FROM CURRENT SET work_mem = '256MB' AS $$
DECLARE
    changed bigint;
    removed bigint;
BEGIN
    LOCK TABLE measure, measure_link, measure_rollup IN SHARE ROW EXCLUSIVE MODE;
    -- Every measure's own figure and its plan level's rank (links go up the ranks, save those to
    -- a declared parent plan), then its mean and value as the passes below find them.
    CREATE TEMP TABLE rolled_value ON COMMIT DROP AS
        SELECT m.id, m.status, m.progress, m.weight, NULL::numeric AS mean,
               measure_rolled_rule(m.status, m.progress, NULL) AS value,
               CASE p.level WHEN 'FEDERAL' THEN 4 WHEN 'REGIONAL' THEN 3 WHEN 'MUNICIPAL' THEN 2
                            WHEN 'CLASSROOM' THEN 0 ELSE 1 END AS rank
          FROM measure m JOIN plan p ON p.id = m.plan_id;
    ALTER TABLE rolled_value ADD PRIMARY KEY (id);
    -- The confirmed links, with the ranks of both ends.
    CREATE TEMP TABLE rolled_edge ON COMMIT DROP AS
        SELECT l.implements_id AS parent, l.measure_id AS child, p.rank AS parent_rank, c.rank AS child_rank
          FROM measure_link l JOIN rolled_value p ON p.id = l.implements_id JOIN rolled_value c ON c.id = l.measure_id
         WHERE l.state = 'CONFIRMED';
    ANALYZE rolled_value;
    ANALYZE rolled_edge;
    -- Passes 0–4: the measures of one rank each, lowest first: exact when every link goes up the
    -- ranks. Links to a declared parent plan of the same or a lower rank, if any, take whole
    -- rounds after that, until nothing changes (32 at most).
    FOR pass IN 0..36 LOOP
        IF pass = 5 AND NOT EXISTS (SELECT 1 FROM rolled_edge WHERE child_rank >= parent_rank) THEN
            EXIT;
        END IF;
        UPDATE rolled_value t SET mean = a.mean, value = measure_rolled_rule(t.status, t.progress, a.mean)
          FROM (SELECT e.parent, sum(c.value * c.weight) / sum(c.weight) AS mean
                  FROM rolled_edge e JOIN rolled_value c ON c.id = e.child
                 WHERE c.value IS NOT NULL AND (pass > 4 OR e.parent_rank = pass)
                 GROUP BY e.parent) a
         WHERE t.id = a.parent AND t.mean IS DISTINCT FROM a.mean;
        GET DIAGNOSTICS changed = ROW_COUNT;
        EXIT WHEN pass > 4 AND changed = 0;
    END LOOP;
    ANALYZE rolled_value;  -- means are set now: the statistics of the start said none were
    DELETE FROM measure_rollup mr USING rolled_value v WHERE v.id = mr.measure_id AND v.mean IS NULL;
    GET DIAGNOSTICS removed = ROW_COUNT;
    INSERT INTO measure_rollup (measure_id, mean)
    SELECT id, mean FROM rolled_value WHERE mean IS NOT NULL
    ON CONFLICT (measure_id) DO UPDATE SET mean = EXCLUDED.mean
     WHERE measure_rollup.mean IS DISTINCT FROM EXCLUDED.mean;
    GET DIAGNOSTICS changed = ROW_COUNT;
    DROP TABLE rolled_value, rolled_edge;
    RETURN changed + removed;
END $$;

-- A measure's status, progress or weight changed: the measures it implements, when what it
-- gives them changed.
CREATE FUNCTION measure_rolled_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    mean numeric := (SELECT mr.mean FROM measure_rollup mr WHERE mr.measure_id = NEW.id);
BEGIN
    IF OLD.weight IS DISTINCT FROM NEW.weight
       OR measure_rolled_rule(OLD.status, OLD.progress, mean) IS DISTINCT FROM measure_rolled_rule(NEW.status, NEW.progress, mean) THEN
        PERFORM measure_rolled_refresh(ARRAY(
            SELECT implements_id FROM measure_link WHERE measure_id = NEW.id AND state = 'CONFIRMED'));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER rolled_progress_changed AFTER UPDATE OF status, progress, weight ON measure
    FOR EACH ROW
    WHEN ((OLD.status, OLD.progress, OLD.weight) IS DISTINCT FROM (NEW.status, NEW.progress, NEW.weight)
          AND current_setting('roadmap.rolled_progress', true) IS DISTINCT FROM 'deferred')
    EXECUTE FUNCTION measure_rolled_changed();

-- A confirmed link added, removed, or confirmed or unconfirmed: the implemented measure(s).
CREATE FUNCTION measure_link_rolled() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM measure_rolled_refresh(ARRAY[NEW.implements_id]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM measure_rolled_refresh(ARRAY[OLD.implements_id]);
    ELSE
        PERFORM measure_rolled_refresh(ARRAY(SELECT DISTINCT unnest(ARRAY[OLD.implements_id, NEW.implements_id])));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER rolled_progress_link_inserted AFTER INSERT ON measure_link
    FOR EACH ROW
    WHEN (NEW.state = 'CONFIRMED' AND current_setting('roadmap.rolled_progress', true) IS DISTINCT FROM 'deferred')
    EXECUTE FUNCTION measure_link_rolled();

CREATE TRIGGER rolled_progress_link_updated AFTER UPDATE ON measure_link
    FOR EACH ROW
    WHEN ((OLD.state = 'CONFIRMED' OR NEW.state = 'CONFIRMED')
          AND (OLD.state IS DISTINCT FROM NEW.state OR OLD.measure_id <> NEW.measure_id
               OR OLD.implements_id <> NEW.implements_id)
          AND current_setting('roadmap.rolled_progress', true) IS DISTINCT FROM 'deferred')
    EXECUTE FUNCTION measure_link_rolled();

CREATE TRIGGER rolled_progress_link_deleted AFTER DELETE ON measure_link
    FOR EACH ROW
    WHEN (OLD.state = 'CONFIRMED' AND current_setting('roadmap.rolled_progress', true) IS DISTINCT FROM 'deferred')
    EXECUTE FUNCTION measure_link_rolled();

SELECT measure_rolled_rebuild();
