-- Organisational units under a school: its classes (grade, letter, school year and the number of
-- pupils, a count), subject teams ("МО учителей математики") and staff roles ("классный
-- руководитель 9А", "учитель химии 11Б"). A unit is an organisation with a parent; it lies in its
-- school's territory. No pupil is ever a row: a class carries a count, never names.
ALTER TABLE organisation DROP CONSTRAINT organisation_kind_check;
ALTER TABLE organisation ADD CONSTRAINT organisation_kind_check
    CHECK (kind IN ('MINISTRY', 'GOVERNMENT', 'INSTITUTE', 'ASSESSMENT_CENTRE', 'MUNICIPAL_AUTHORITY',
                    'METHODOLOGICAL_CENTRE', 'SCHOOL', 'OTHER', 'CLASS', 'SUBJECT_TEAM', 'STAFF_ROLE'));

ALTER TABLE organisation
    ADD COLUMN parent_id    uuid REFERENCES organisation (id),
    -- Classes: grade 1-11, letter as written ("А", "Б"), school year "2024/25".
    ADD COLUMN grade        smallint CHECK (grade BETWEEN 1 AND 11),
    ADD COLUMN letter       text CHECK (letter ~ '^[А-ЯЁ]{1,2}$'),
    ADD COLUMN school_year  text CHECK (school_year ~ '^[0-9]{4}/[0-9]{2}$'),
    -- How many pupils the class has: a count, the only thing stored about them.
    ADD COLUMN pupils       integer CHECK (pupils >= 0 AND pupils <= 60),
    -- Subject teams and staff roles: the subject as written ("химия", "математика").
    ADD COLUMN subject      text CHECK (btrim(subject) <> ''),
    ADD CONSTRAINT organisation_unit_parent CHECK ((parent_id IS NULL) = (kind NOT IN ('CLASS', 'SUBJECT_TEAM', 'STAFF_ROLE'))),
    ADD CONSTRAINT organisation_not_own_parent CHECK (parent_id <> id),
    ADD CONSTRAINT organisation_class_fields CHECK (
        (kind = 'CLASS') = (grade IS NOT NULL AND letter IS NOT NULL AND school_year IS NOT NULL)
        AND (kind = 'CLASS' OR pupils IS NULL));

-- Names are unique among the organisations of a territory at the top, and among the units of one
-- parent in one school year (9А of 2024/25 and 9А of 2025/26 are two classes).
ALTER TABLE organisation DROP CONSTRAINT organisation_name_unique;
ALTER TABLE organisation ADD CONSTRAINT organisation_name_unique
    UNIQUE NULLS NOT DISTINCT (territory_id, parent_id, name, school_year);
CREATE UNIQUE INDEX organisation_class_unique ON organisation (parent_id, grade, letter, school_year)
    WHERE kind = 'CLASS';
CREATE INDEX organisation_parent_idx ON organisation (parent_id);
