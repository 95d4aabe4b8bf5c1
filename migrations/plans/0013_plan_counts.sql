-- Measure counts stored per *group of plans*, so that `Territory.measureCounts` of the
-- country's regions does not count every measure under them (two million rows of the national
-- cascade) on each request: a group row sums the plans of one territory, state, time zone and
-- period (about one group per territory, 2,400 rows for the national cascade, whose 160,000
-- plans are mostly class plans). Decisions: services/plans/src/counts.rs.
--
-- A group row always exists for every group that has plans, and its `plans` is always exact
-- (kept by the triggers on `plan`). Its counts are the group's measures by effective status as
-- of the day `as_of` (OVERDUE: PLANNED or IN_PROGRESS with a due day before `as_of`), or NULL
-- (with `as_of`) when not counted: readers use them only when `as_of` is today in the group's
-- zone, and count the group's plans themselves otherwise.

-- The one definition of the counts: the refresher and the triggers below store it, readers
-- compute it for plans without a row of today (a plain SQL function: inlined into their
-- statement; `of_plan` NULL counts nothing).
CREATE FUNCTION plan_measure_counts(of_plan uuid, on_day date)
RETURNS TABLE (total int4, done int4, in_progress int4, overdue int4, not_started int4, cancelled int4)
LANGUAGE sql STABLE AS $$
    SELECT count(*)::int4,
           count(*) FILTER (WHERE m.status = 'DONE')::int4,
           count(*) FILTER (WHERE m.status = 'IN_PROGRESS' AND NOT coalesce(m.due_on < on_day, false))::int4,
           count(*) FILTER (WHERE m.status IN ('PLANNED', 'IN_PROGRESS') AND m.due_on < on_day)::int4,
           count(*) FILTER (WHERE m.status = 'PLANNED' AND NOT coalesce(m.due_on < on_day, false))::int4,
           count(*) FILTER (WHERE m.status = 'CANCELLED')::int4
    FROM measure m WHERE m.plan_id = of_plan
$$;

-- The group of a plan: its territory (plans without one are in no group), its state, its time
-- zone ('' for none: the hub's default zone) and its period (open ends as -infinity and
-- infinity, so that "in force on a day" is `period_start <= day AND period_end >= day`).
CREATE TABLE plan_group_counts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    territory_id  uuid NOT NULL,
    state         text NOT NULL,
    time_zone     text NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    plans         int4 NOT NULL,
    as_of         date,
    total         int4,
    done          int4,
    in_progress   int4,
    overdue       int4,
    not_started   int4,
    cancelled     int4,
    CONSTRAINT plan_group_counts_group UNIQUE (territory_id, state, time_zone, period_start, period_end),
    CONSTRAINT plan_group_counts_counted CHECK ((as_of IS NULL) = (total IS NULL))
);

-- Every group of the plans already there, not counted yet.
INSERT INTO plan_group_counts (territory_id, state, time_zone, period_start, period_end, plans)
SELECT territory_id, state, COALESCE(time_zone, ''), COALESCE(period_start, '-infinity'),
       COALESCE(period_end, 'infinity'), count(*)
  FROM plan WHERE territory_id IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;

-- The counts of group `g`'s plans as of `on_day` (each plan by `plan_measure_counts`).
CREATE FUNCTION plan_group_measure_counts(g plan_group_counts, on_day date)
RETURNS TABLE (total int4, done int4, in_progress int4, overdue int4, not_started int4, cancelled int4)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(n.total), 0)::int4, coalesce(sum(n.done), 0)::int4,
           coalesce(sum(n.in_progress), 0)::int4, coalesce(sum(n.overdue), 0)::int4,
           coalesce(sum(n.not_started), 0)::int4, coalesce(sum(n.cancelled), 0)::int4
      FROM plan p CROSS JOIN LATERAL plan_measure_counts(p.id, on_day) n
     WHERE p.territory_id = g.territory_id AND p.state = g.state
       AND COALESCE(p.time_zone, '') = g.time_zone
       AND COALESCE(p.period_start, '-infinity') = g.period_start
       AND COALESCE(p.period_end, 'infinity') = g.period_end
$$;

-- Writers and the refresher exclude each other with one advisory lock, key (7412309, 16): every
-- transaction that changes measures or plans holds it shared from its first such statement's
-- end to its commit; the refresher counts groups holding it exclusively, and only when it gets
-- it at once (`plan_group_counts_try_refresh`). So counts the refresher stores never miss a
-- committed change, and a change committed after them recounts (or uncounts) them.
--
-- `plan_group_counts_writing`: takes the shared lock and tells whether any group is counted
-- (with none, as during a bulk load, the measure triggers stop here, whatever the number of rows
-- changed). Changes must run at READ COMMITTED (PostgreSQL's default, the hub's only level): a
-- later isolation level's snapshot may predate counts the refresher committed, and the change
-- would miss them, so it is refused.
CREATE FUNCTION plan_group_counts_writing() RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'measures and plans change at READ COMMITTED only (plan_group_counts), not %',
            current_setting('transaction_isolation');
    END IF;
    PERFORM pg_advisory_xact_lock_shared(7412309, 16);
    RETURN EXISTS (SELECT 1 FROM plan_group_counts WHERE as_of IS NOT NULL);
END $$;

-- For the refresher, at the start of its transaction.
CREATE FUNCTION plan_group_counts_try_refresh() RETURNS boolean
LANGUAGE sql AS $$ SELECT pg_try_advisory_xact_lock(7412309, 16) $$;

-- Recounts the counted groups of `plans` (as they are grouped now), each for its own `as_of`.
-- The groups are locked first, in id order, and counted by a later statement (a snapshot taken
-- after the locks): of two transactions changing measures of one group, the second waits for the
-- first's commit and counts its changes too.
CREATE FUNCTION plan_group_counts_recount(plans uuid[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    groups bigint[];
BEGIN
    SELECT array_agg(g.id ORDER BY g.id) INTO groups
      FROM (SELECT DISTINCT territory_id, state, COALESCE(time_zone, '') AS time_zone,
                   COALESCE(period_start, '-infinity') AS period_start, COALESCE(period_end, 'infinity') AS period_end
              FROM plan WHERE id = ANY (plans) AND territory_id IS NOT NULL) k
      JOIN plan_group_counts g USING (territory_id, state, time_zone, period_start, period_end)
     WHERE g.as_of IS NOT NULL;
    IF groups IS NULL THEN
        RETURN;
    END IF;
    PERFORM 1 FROM plan_group_counts WHERE id = ANY (groups) ORDER BY id FOR UPDATE;
    UPDATE plan_group_counts g
       SET (total, done, in_progress, overdue, not_started, cancelled) =
           (SELECT n.total, n.done, n.in_progress, n.overdue, n.not_started, n.cancelled
              FROM plan_group_measure_counts(g, g.as_of) n)
     WHERE g.id = ANY (groups) AND g.as_of IS NOT NULL;
END $$;

-- Statement-level triggers on `measure` (one call per statement, however many rows; a COPY is one
-- statement), each with the rows the statement changed. A measure deleted with its plan is no
-- longer in a group: the plan's trigger recounts its group.
CREATE FUNCTION plan_group_counts_measure_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF plan_group_counts_writing() THEN
        PERFORM plan_group_counts_recount(ARRAY(SELECT DISTINCT plan_id FROM plan_group_counts_new));
    END IF;
    RETURN NULL;
END $$;

-- An update recounts only the groups of rows whose plan, status or due day changed.
CREATE FUNCTION plan_group_counts_measure_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF plan_group_counts_writing() THEN
        PERFORM plan_group_counts_recount(ARRAY(
            SELECT DISTINCT unnest(ARRAY[o.plan_id, n.plan_id])
              FROM plan_group_counts_old o FULL JOIN plan_group_counts_new n ON n.id = o.id
             WHERE o.id IS NULL OR n.id IS NULL
                OR (o.plan_id, o.status, o.due_on) IS DISTINCT FROM (n.plan_id, n.status, n.due_on)));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION plan_group_counts_measure_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF plan_group_counts_writing() THEN
        PERFORM plan_group_counts_recount(ARRAY(SELECT DISTINCT plan_id FROM plan_group_counts_old));
    END IF;
    RETURN NULL;
END $$;

-- TRUNCATE names no rows: every group is uncounted (readers count until the refresher runs).
CREATE FUNCTION plan_group_counts_measure_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF plan_group_counts_writing() THEN
        UPDATE plan_group_counts SET as_of = NULL, total = NULL, done = NULL, in_progress = NULL,
               overdue = NULL, not_started = NULL, cancelled = NULL
         WHERE as_of IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER plan_group_counts_measure_inserted AFTER INSERT ON measure
    REFERENCING NEW TABLE AS plan_group_counts_new
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_measure_inserted();
CREATE TRIGGER plan_group_counts_measure_updated AFTER UPDATE ON measure
    REFERENCING OLD TABLE AS plan_group_counts_old NEW TABLE AS plan_group_counts_new
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_measure_updated();
CREATE TRIGGER plan_group_counts_measure_deleted AFTER DELETE ON measure
    REFERENCING OLD TABLE AS plan_group_counts_old
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_measure_deleted();
CREATE TRIGGER plan_group_counts_measure_truncated AFTER TRUNCATE ON measure
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_measure_truncated();

-- Plans joining and leaving groups. New plans have no measures yet: their groups' counts stay.
CREATE FUNCTION plan_group_counts_plans_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM plan_group_counts_writing();
    INSERT INTO plan_group_counts AS g (territory_id, state, time_zone, period_start, period_end, plans)
    SELECT territory_id, state, COALESCE(time_zone, ''), COALESCE(period_start, '-infinity'),
           COALESCE(period_end, 'infinity'), count(*)
      FROM plan_group_counts_new_plans WHERE territory_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT plan_group_counts_group DO UPDATE SET plans = g.plans + EXCLUDED.plans;
    RETURN NULL;
END $$;

-- Deleted plans' measures went with them (before this statement trigger): their groups are
-- recounted, and a group left without plans goes.
CREATE FUNCTION plan_group_counts_plans_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    groups bigint[];
BEGIN
    PERFORM plan_group_counts_writing();
    WITH gone AS (
        SELECT territory_id, state, COALESCE(time_zone, '') AS time_zone,
               COALESCE(period_start, '-infinity') AS period_start, COALESCE(period_end, 'infinity') AS period_end,
               count(*) AS plans
          FROM plan_group_counts_old_plans WHERE territory_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5),
    left_ AS (
        UPDATE plan_group_counts g SET plans = g.plans - gone.plans
          FROM gone
         WHERE (g.territory_id, g.state, g.time_zone, g.period_start, g.period_end)
             = (gone.territory_id, gone.state, gone.time_zone, gone.period_start, gone.period_end)
        RETURNING g.id, g.plans, g.as_of)
    SELECT array_agg(id ORDER BY id) FILTER (WHERE plans > 0 AND as_of IS NOT NULL) INTO groups FROM left_;
    DELETE FROM plan_group_counts WHERE plans <= 0;
    IF groups IS NOT NULL THEN
        PERFORM 1 FROM plan_group_counts WHERE id = ANY (groups) ORDER BY id FOR UPDATE;
        UPDATE plan_group_counts g
           SET (total, done, in_progress, overdue, not_started, cancelled) =
               (SELECT n.total, n.done, n.in_progress, n.overdue, n.not_started, n.cancelled
                  FROM plan_group_measure_counts(g, g.as_of) n)
         WHERE g.id = ANY (groups) AND g.as_of IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

-- A plan moved to another group (territory, state, time zone or period changed) takes its
-- measures with it: both groups are uncounted (readers count them until the refresher runs), not
-- recounted, so that a measure changed meanwhile by a transaction that saw the plan in its old
-- group is never left out of the new one.
CREATE FUNCTION plan_group_counts_plans_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM plan_group_counts_old_plans o JOIN plan_group_counts_new_plans n ON n.id = o.id
         WHERE (o.territory_id, o.state, o.time_zone, o.period_start, o.period_end)
               IS DISTINCT FROM (n.territory_id, n.state, n.time_zone, n.period_start, n.period_end)) THEN
        RETURN NULL;
    END IF;
    PERFORM plan_group_counts_writing();
    WITH moved AS (
        SELECT o.territory_id AS old_territory, o.state AS old_state, o.time_zone AS old_zone,
               o.period_start AS old_start, o.period_end AS old_end, n.*
          FROM plan_group_counts_old_plans o JOIN plan_group_counts_new_plans n ON n.id = o.id
         WHERE (o.territory_id, o.state, o.time_zone, o.period_start, o.period_end)
               IS DISTINCT FROM (n.territory_id, n.state, n.time_zone, n.period_start, n.period_end)),
    deltas AS (
        SELECT old_territory AS territory_id, old_state AS state, COALESCE(old_zone, '') AS time_zone,
               COALESCE(old_start, '-infinity') AS period_start, COALESCE(old_end, 'infinity') AS period_end,
               -1 AS delta
          FROM moved
        UNION ALL
        SELECT territory_id, state, COALESCE(time_zone, ''), COALESCE(period_start, '-infinity'),
               COALESCE(period_end, 'infinity'), 1
          FROM moved)
    INSERT INTO plan_group_counts AS g (territory_id, state, time_zone, period_start, period_end, plans)
    SELECT territory_id, state, time_zone, period_start, period_end, sum(delta)
      FROM deltas WHERE territory_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT plan_group_counts_group DO UPDATE
       SET plans = g.plans + EXCLUDED.plans, as_of = NULL, total = NULL, done = NULL, in_progress = NULL,
           overdue = NULL, not_started = NULL, cancelled = NULL;
    DELETE FROM plan_group_counts WHERE plans <= 0;
    RETURN NULL;
END $$;

CREATE FUNCTION plan_group_counts_plans_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM plan_group_counts_writing();
    DELETE FROM plan_group_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER plan_group_counts_plans_inserted AFTER INSERT ON plan
    REFERENCING NEW TABLE AS plan_group_counts_new_plans
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_plans_inserted();
CREATE TRIGGER plan_group_counts_plans_updated AFTER UPDATE ON plan
    REFERENCING OLD TABLE AS plan_group_counts_old_plans NEW TABLE AS plan_group_counts_new_plans
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_plans_updated();
CREATE TRIGGER plan_group_counts_plans_deleted AFTER DELETE ON plan
    REFERENCING OLD TABLE AS plan_group_counts_old_plans
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_plans_deleted();
CREATE TRIGGER plan_group_counts_plans_truncated AFTER TRUNCATE ON plan
    FOR EACH STATEMENT EXECUTE FUNCTION plan_group_counts_plans_truncated();
