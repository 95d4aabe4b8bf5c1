-- Where a measure is carried out: for a measure (the root), the territories of the plans whose
-- measures implement it at any depth, with the plan's state and those measures, grouped as the
-- trace of `Measure.implementedBy` reaches them. The auditor's and the dashboard's questions
-- (`Plan.implementationByTerritory`, `Measure.coverage`, `Territory.coverageGaps`) read it
-- instead of walking the cascade on every request: a federal measure reaches ~12,000 measures.
--
-- It is a cache filled by readers, exact by construction:
-- - `reach_root.generation` counts the changes that may have changed a root's reach; a change of
--   a link (added, removed, its state changed) or of a plan's state or territory bumps it for the
--   measures above the change (the implemented measure and every measure above it), in the
--   changing transaction (statement triggers below).
-- - A reader that finds `computed` unequal to `generation` (or no row) computes the reach and
--   stores it with the generation it read, only if that is still the row's generation
--   (`INSERT .. ON CONFLICT .. WHERE`): a change that commits in between wins, and the row stays
--   to be computed again. A bump deletes the root's stored reach in the same statement, so rows
--   in `reach` always belong to the generation in `computed`.
-- Status changes do not touch it (reach does not depend on statuses). The functions keep the
-- schema's search path, so a write through any connection (`plans.measure`) finds the tables.
CREATE TABLE reach_root (
    measure_id  uuid PRIMARY KEY REFERENCES measure (id) ON DELETE CASCADE,
    generation  bigint NOT NULL DEFAULT 0,
    computed    bigint
);

-- The roots read before whose stored reach is out of date: what the warmer computes again
-- (`services/plans/src/reach.rs`).
CREATE INDEX reach_root_stale_idx ON reach_root (measure_id) WHERE computed IS NOT NULL AND computed <> generation;

CREATE TABLE reach (
    root          uuid NOT NULL REFERENCES measure (id) ON DELETE CASCADE,
    territory_id  uuid NOT NULL,
    -- The implementing plans' state: readers who may not see a territory's drafts skip DRAFT rows.
    state         text NOT NULL,
    -- The implementing measures in plans of that territory and state.
    measures      uuid[] NOT NULL,
    PRIMARY KEY (root, territory_id, state)
);

-- Bumps the generation of `changed` and of every measure above them (through links that are not
-- rejected) and drops their stored reach.
CREATE FUNCTION reach_invalidate(changed uuid[]) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF changed IS NULL OR cardinality(changed) = 0 THEN
        RETURN;
    END IF;
    WITH RECURSIVE up(id) AS (
        SELECT m.id FROM measure m WHERE m.id = ANY(changed)
        UNION
        SELECT l.implements_id FROM measure_link l JOIN up ON l.measure_id = up.id WHERE l.state <> 'REJECTED'
    ), bumped AS (
        INSERT INTO reach_root (measure_id, generation)
        SELECT id, 1 FROM up ORDER BY id
        ON CONFLICT (measure_id) DO UPDATE SET generation = reach_root.generation + 1
        RETURNING measure_id
    )
    DELETE FROM reach r USING bumped b WHERE r.root = b.measure_id;
END $$;

CREATE FUNCTION reach_links_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM reach_invalidate(ARRAY(SELECT DISTINCT implements_id FROM new_links WHERE state <> 'REJECTED'));
    RETURN NULL;
END $$;

CREATE FUNCTION reach_links_updated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM reach_invalidate(ARRAY(
        SELECT DISTINCT o.implements_id FROM old_links o JOIN new_links n ON n.id = o.id
         WHERE (o.state = 'REJECTED') <> (n.state = 'REJECTED')
            OR o.measure_id <> n.measure_id OR o.implements_id <> n.implements_id
        UNION
        SELECT n.implements_id FROM old_links o JOIN new_links n ON n.id = o.id
         WHERE o.measure_id <> n.measure_id OR o.implements_id <> n.implements_id));
    RETURN NULL;
END $$;

CREATE FUNCTION reach_links_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM reach_invalidate(ARRAY(SELECT DISTINCT implements_id FROM old_links WHERE state <> 'REJECTED'));
    RETURN NULL;
END $$;

CREATE TRIGGER reach_links_inserted AFTER INSERT ON measure_link
    REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION reach_links_inserted();
CREATE TRIGGER reach_links_updated AFTER UPDATE ON measure_link
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION reach_links_updated();
CREATE TRIGGER reach_links_deleted AFTER DELETE ON measure_link
    REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION reach_links_deleted();

-- A plan's state or territory is part of what its measures contribute to the measures they
-- implement.
CREATE FUNCTION reach_plans_updated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM reach_invalidate(ARRAY(
        SELECT DISTINCT l.implements_id
          FROM old_plans o JOIN new_plans n ON n.id = o.id
          JOIN measure m ON m.plan_id = n.id
          JOIN measure_link l ON l.measure_id = m.id AND l.state <> 'REJECTED'
         WHERE o.state IS DISTINCT FROM n.state OR o.territory_id IS DISTINCT FROM n.territory_id));
    RETURN NULL;
END $$;

CREATE TRIGGER reach_plans_updated AFTER UPDATE ON plan
    REFERENCING OLD TABLE AS old_plans NEW TABLE AS new_plans FOR EACH STATEMENT EXECUTE FUNCTION reach_plans_updated();

-- A measure moved to another plan takes its links with it.
CREATE FUNCTION reach_measures_moved() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM reach_invalidate(ARRAY(
        SELECT DISTINCT l.implements_id
          FROM old_measures o JOIN new_measures n ON n.id = o.id
          JOIN measure_link l ON l.measure_id = n.id AND l.state <> 'REJECTED'
         WHERE o.plan_id <> n.plan_id));
    RETURN NULL;
END $$;

CREATE TRIGGER reach_measures_moved AFTER UPDATE ON measure
    REFERENCING OLD TABLE AS old_measures NEW TABLE AS new_measures FOR EACH STATEMENT EXECUTE FUNCTION reach_measures_moved();
