-- The fifth level: a class's or teacher's plan (CLASSROOM), owned by a class or staff role of a
-- school (people's units); its measures implement the school's. Nothing about pupils is stored:
-- occurrence reports keep counts.
ALTER TABLE plan DROP CONSTRAINT plan_level_check;
ALTER TABLE plan ADD CONSTRAINT plan_level_check
    CHECK (level IN ('FEDERAL', 'REGIONAL', 'MUNICIPAL', 'SCHOOL', 'CLASSROOM'));
