-- The time zone (IANA name) of the plan's territory, as the people subgraph gave it when the plan
-- was imported or created: "today" and OVERDUE of the plan's measures, and the deadline watcher's
-- misses, are taken in it. NULL (no territory, or a plan from before this column): Moscow time
-- until the watcher fills it in from the people subgraph.
ALTER TABLE plan ADD COLUMN time_zone text;
