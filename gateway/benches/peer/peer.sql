-- The peer benchmark's own objects (gateway/benches/peer.rs), created in the bench database when
-- the bench starts; they are not part of the hub and no migration knows them. PostGraphile exposes
-- them as computed columns of `Measure` (the first argument is the table's row type):
--
-- - `Measure.implementers`: the measures that carry out this one over links that are not
--   REJECTED, as the hub's traces follow them (`implementedBy`);
-- - `Measure.effectiveStatus`: the status the hub's `Measure.status` reads: the status people set,
--   or OVERDUE when neither done nor cancelled and due before today in the plan's time zone
--   (Moscow when the plan has none).
CREATE OR REPLACE FUNCTION plans.measure_implementers(m plans.measure) RETURNS SETOF plans.measure
LANGUAGE sql STABLE AS $$
  SELECT i.* FROM plans.measure_link l JOIN plans.measure i ON i.id = l.measure_id
   WHERE l.implements_id = m.id AND l.state <> 'REJECTED'
$$;
COMMENT ON FUNCTION plans.measure_implementers(plans.measure) IS E'@behavior +list -connection\n@listSuffix omit';

CREATE OR REPLACE FUNCTION plans.measure_effective_status(m plans.measure) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN m.status IN ('DONE', 'CANCELLED') OR m.due_on IS NULL THEN m.status
    WHEN m.due_on < (now() AT TIME ZONE COALESCE(
      (SELECT p.time_zone FROM plans.plan p WHERE p.id = m.plan_id), 'Europe/Moscow'))::date
      THEN 'OVERDUE'
    ELSE m.status
  END
$$;
