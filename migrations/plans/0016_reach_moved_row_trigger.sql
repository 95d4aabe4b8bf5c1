-- A measure moved to another plan takes its links with it: the measures it implements (and every
-- measure above them) may be carried out elsewhere now (`reach_invalidate`, migration 0015).
--
-- 0015 caught the move with a statement trigger on every UPDATE of `measure`, building transition
-- tables of the old and new rows for every status or text change only to find no plan changed. A
-- statement trigger with transition tables cannot be limited to a column, so the move is caught
-- by a row trigger on `plan_id`, fired only for rows whose plan changed: other updates of a
-- measure do no work for the reach at all. The invalidation is the same.
--
-- One statement moving several linked measures invalidates per moved row, each call locking its
-- roots in id order; moves are rare (no mutation moves a measure; an administrator's SQL does),
-- and a reader storing the same roots meanwhile may at worst meet a deadlock PostgreSQL breaks.
DROP TRIGGER reach_measures_moved ON measure;
DROP FUNCTION reach_measures_moved();

CREATE FUNCTION reach_measure_moved() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM reach_invalidate(ARRAY(
        SELECT DISTINCT l.implements_id FROM measure_link l
         WHERE l.measure_id = NEW.id AND l.state <> 'REJECTED'));
    RETURN NULL;
END $$;

CREATE TRIGGER reach_measure_moved AFTER UPDATE OF plan_id ON measure
    FOR EACH ROW WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id) EXECUTE FUNCTION reach_measure_moved();
