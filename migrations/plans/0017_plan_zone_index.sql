-- The time zones the plans are in (`store::Today::of`: the deadline watcher, the counts refresher
-- and every request of the auditor's pages ask for them) were read by `SELECT DISTINCT` over the
-- whole plan table: 130-150 ms for the 160,000 plans of a national cascade, on every "what is
-- missing" page. An index on the zone (NULL as '', the hub's default zone) lets a skip scan find
-- the dozen distinct zones in a dozen index probes.
CREATE INDEX plan_zone_idx ON plan ((COALESCE(time_zone, '')));
