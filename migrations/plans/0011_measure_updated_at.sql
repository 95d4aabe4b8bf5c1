-- When a measure last changed, for "stale" measures (no update in N days): its content (a
-- re-import that changed the row), its status or progress, or a report on one of its
-- occurrences. Kept by triggers, so every writer (mutations, the importer, bulk loads) keeps it.
ALTER TABLE measure ADD COLUMN updated_at timestamptz;

UPDATE measure m SET updated_at = GREATEST(
    m.created_at,
    m.status_changed_at,
    (SELECT max(r.reported_at) FROM occurrence_report r WHERE r.measure_id = m.id));

ALTER TABLE measure
    ALTER COLUMN updated_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET NOT NULL;

CREATE INDEX measure_updated_idx ON measure (updated_at);

-- A change of what the row says moves `updated_at` to now; where the row sits in the document
-- (position, section, source line: shifted when a measure above is added or removed) does not.
-- An UPDATE that sets only `updated_at` (a report, below) keeps the value it sets.
CREATE FUNCTION measure_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'updated_at' - 'position' - 'section_id' - 'source_line')
       IS DISTINCT FROM (to_jsonb(OLD) - 'updated_at' - 'position' - 'section_id' - 'source_line') THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER measure_touch BEFORE UPDATE ON measure
    FOR EACH ROW EXECUTE FUNCTION measure_touch();

-- A report on an occurrence is an update of its measure.
CREATE FUNCTION measure_reported() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE measure SET updated_at = GREATEST(updated_at, NEW.reported_at) WHERE id = NEW.measure_id;
    RETURN NEW;
END $$;

CREATE TRIGGER measure_reported AFTER INSERT ON occurrence_report
    FOR EACH ROW EXECUTE FUNCTION measure_reported();
