//! The rules of organisational units under a school (pure): what a class, a subject team and a
//! staff role must say, checked field by field before anything is written.
//!
//! - A class belongs to a school and has a grade (1-11), a letter (one or two Cyrillic capitals,
//!   "А", "Б"), a school year ("2024/25"; "2024/2025" is read as the same) and optionally the
//!   number of its pupils (0-60, a count); it is named by grade and letter ("9А") unless a name
//!   is given. Two classes of one school cannot share grade, letter and school year.
//! - A subject team belongs to a school; a staff role to a school, a class or a subject team.
//!   Both need a name and may name their subject; neither has class fields.
//! - Names and subjects are roles, never people: text that looks like a personal name
//!   (`roadmap_common::personal_data`) is refused.
//! - A unit lies in its parent's territory, so scopes by territory cover it.

use roadmap_common::personal_data::refuse_personal_names;
use roadmap_common::{ServiceError, ServiceResult};
use uuid::Uuid;

use crate::graphql::OrganisationKind;
use crate::store::{OrganisationRow, UnitRow};

/// The most pupils a class may count.
pub const MAX_PUPILS: i32 = 60;

/// A unit's fields as given (creation) or as they will be (an update merged over the row).
pub use crate::graphql::UpdateUnitInput as UnitFields;

/// Checks `fields` of a unit of `kind` under `parent`; errors name `{path}.<field>`.
pub fn check(
    path: &str,
    id: Uuid,
    kind: OrganisationKind,
    fields: &UnitFields,
    parent: &OrganisationRow,
) -> ServiceResult<UnitRow> {
    let field = |name: &str| format!("{path}.{name}");
    if !kind.is_unit() {
        return Err(ServiceError::invalid(
            field("kind"),
            "must be CLASS, SUBJECT_TEAM or STAFF_ROLE (other organisations: createOrganisation)",
        ));
    }
    let parent_kind = OrganisationKind::from_db(&parent.kind);
    let allowed: &[OrganisationKind] = match kind {
        OrganisationKind::StaffRole => &[
            OrganisationKind::School,
            OrganisationKind::Class,
            OrganisationKind::SubjectTeam,
        ],
        _ => &[OrganisationKind::School],
    };
    if !parent_kind.is_some_and(|k| allowed.contains(&k)) {
        let wanted = allowed.iter().map(|k| k.as_db()).collect::<Vec<_>>().join(" or ");
        return Err(ServiceError::invalid(
            field("parent"),
            format!(
                "a {} belongs to a {wanted}; «{}» is a {}",
                kind.as_db(),
                parent.name,
                parent.kind
            ),
        ));
    }
    let subject = optional_text(&field("subject"), fields.subject.as_deref())?;
    let mut row = UnitRow {
        id,
        name: String::new(),
        kind: kind.as_db(),
        territory: parent.territory_id,
        parent: parent.id,
        grade: None,
        letter: None,
        school_year: None,
        pupils: None,
        subject: subject.clone(),
    };
    if kind == OrganisationKind::Class {
        if subject.is_some() {
            return Err(ServiceError::invalid(
                field("subject"),
                "a class has no subject; a staff role of the class carries it (\"учитель химии 11Б\")",
            ));
        }
        let grade = fields
            .grade
            .ok_or_else(|| ServiceError::invalid(field("grade"), "a class needs its grade (1-11)"))?;
        if !(1..=11).contains(&grade) {
            return Err(ServiceError::invalid(
                field("grade"),
                format!("{grade} is not a grade 1-11"),
            ));
        }
        let letter = class_letter(&field("letter"), fields.letter.as_deref())?;
        let year = school_year(&field("schoolYear"), fields.school_year.as_deref())?;
        if let Some(p) = fields.pupils
            && !(0..=MAX_PUPILS).contains(&p)
        {
            return Err(ServiceError::invalid(
                field("pupils"),
                format!("{p} is not a number of pupils (0-{MAX_PUPILS})"),
            ));
        }
        row.name = match optional_text(&field("name"), fields.name.as_deref())? {
            Some(name) => name,
            None => format!("{grade}{letter}"),
        };
        row.grade = Some(grade as i16);
        row.letter = Some(letter);
        row.school_year = Some(year);
        row.pupils = fields.pupils;
    } else {
        for (name, given) in [
            ("grade", fields.grade.is_some()),
            ("letter", fields.letter.is_some()),
            ("schoolYear", fields.school_year.is_some()),
            ("pupils", fields.pupils.is_some()),
        ] {
            if given {
                return Err(ServiceError::invalid(field(name), "only a class has it"));
            }
        }
        row.name = optional_text(&field("name"), fields.name.as_deref())?
            .ok_or_else(|| ServiceError::invalid(field("name"), format!("a {} needs a name", kind.as_db())))?;
    }
    refuse_personal_names(&row.name).map_err(|m| ServiceError::invalid(field("name"), m))?;
    if let Some(s) = &row.subject {
        refuse_personal_names(s).map_err(|m| ServiceError::invalid(field("subject"), m))?;
    }
    Ok(row)
}

/// Refuses a unit that would repeat one of `siblings` (the other units of its parent): the same
/// class (grade, letter, year), or the same name in the same school year.
pub fn check_unique(path: &str, row: &UnitRow, siblings: &[UnitRow]) -> ServiceResult<()> {
    for s in siblings.iter().filter(|s| s.id != row.id) {
        if row.grade.is_some() && (s.grade, &s.letter, &s.school_year) == (row.grade, &row.letter, &row.school_year) {
            return Err(ServiceError::invalid(
                path,
                format!(
                    "the class {}{} of {} already exists there ({})",
                    row.grade.unwrap_or_default(),
                    row.letter.as_deref().unwrap_or_default(),
                    row.school_year.as_deref().unwrap_or_default(),
                    s.id
                ),
            ));
        }
        if s.name == row.name && s.school_year == row.school_year {
            return Err(ServiceError::invalid(
                format!("{path}.name"),
                format!("«{}» already exists there ({})", row.name, s.id),
            ));
        }
    }
    Ok(())
}

/// A stored unit as the fields an update starts from.
pub fn fields_of(row: &OrganisationRow) -> UnitFields {
    UnitFields {
        name: Some(row.name.clone()),
        grade: row.grade.map(i32::from),
        letter: row.letter.clone(),
        school_year: row.school_year.clone(),
        pupils: row.pupils,
        subject: row.subject.clone(),
    }
}

/// A stored unit as a row to compare with.
pub fn unit_of(row: &OrganisationRow) -> UnitRow {
    UnitRow {
        id: row.id,
        name: row.name.clone(),
        kind: OrganisationKind::from_db(&row.kind)
            .map(OrganisationKind::as_db)
            .unwrap_or("OTHER"),
        territory: row.territory_id,
        parent: row.parent_id.unwrap_or_default(),
        grade: row.grade,
        letter: row.letter.clone(),
        school_year: row.school_year.clone(),
        pupils: row.pupils,
        subject: row.subject.clone(),
    }
}

fn optional_text(field: &str, value: Option<&str>) -> ServiceResult<Option<String>> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("") => Err(ServiceError::invalid(field, "must not be empty when given")),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// One or two Cyrillic capitals; a lower-case letter is read as its capital.
fn class_letter(field: &str, value: Option<&str>) -> ServiceResult<String> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ServiceError::invalid(field, "a class needs its letter (\"А\", \"Б\")"))?;
    let letter = value.to_uppercase();
    let cyrillic = |c: char| ('А'..='Я').contains(&c) || c == 'Ё';
    if letter.chars().count() > 2 || !letter.chars().all(cyrillic) {
        return Err(ServiceError::invalid(
            field,
            format!("«{value}» is not a class letter: one or two Cyrillic letters (\"А\", \"Б\")"),
        ));
    }
    Ok(letter)
}

/// "2024/25" (or "2024/2025", read as "2024/25"): two consecutive years.
pub fn school_year(field: &str, value: Option<&str>) -> ServiceResult<String> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ServiceError::invalid(field, "a class needs its school year (\"2024/25\")"))?;
    let bad = || {
        ServiceError::invalid(
            field,
            format!("«{value}» is not a school year like \"2024/25\" (two consecutive years)"),
        )
    };
    let (first, second) = value.split_once('/').ok_or_else(bad)?;
    let first: i32 = first.trim().parse().map_err(|_| bad())?;
    let second_text = second.trim();
    let second: i32 = second_text.parse().map_err(|_| bad())?;
    let consecutive = match second_text.len() {
        2 => second == (first + 1) % 100,
        4 => second == first + 1,
        _ => false,
    };
    if !(1990..=2100).contains(&first) || !consecutive {
        return Err(bad());
    }
    Ok(format!("{first}/{:02}", (first + 1) % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school() -> OrganisationRow {
        OrganisationRow::top(
            Uuid::new_v4(),
            "МБОУ СОШ № 8".into(),
            "SCHOOL".into(),
            Some(Uuid::new_v4()),
            vec![],
        )
    }

    fn class(grade: i32, letter: &str, year: &str) -> UnitFields {
        UnitFields {
            grade: Some(grade),
            letter: Some(letter.into()),
            school_year: Some(year.into()),
            pupils: Some(24),
            ..Default::default()
        }
    }

    #[test]
    fn a_class_is_named_by_grade_and_letter_in_its_schools_territory() {
        let s = school();
        let row = check(
            "input",
            Uuid::new_v4(),
            OrganisationKind::Class,
            &class(11, "б", "2024/2025"),
            &s,
        )
        .unwrap();
        assert_eq!(row.name, "11Б");
        assert_eq!(row.letter.as_deref(), Some("Б"));
        assert_eq!(row.school_year.as_deref(), Some("2024/25"));
        assert_eq!(row.territory, s.territory_id);
        assert_eq!(row.parent, s.id);
    }

    #[test]
    fn bad_class_fields_name_the_field() {
        let s = school();
        let cases: [(UnitFields, &str); 6] = [
            (class(12, "А", "2024/25"), "inputs[0].grade"),
            (class(9, "A", "2024/25"), "inputs[0].letter"),
            (class(9, "А", "2024/26"), "inputs[0].schoolYear"),
            (class(9, "А", "24/25"), "inputs[0].schoolYear"),
            (
                UnitFields {
                    pupils: Some(-1),
                    ..class(9, "А", "2024/25")
                },
                "inputs[0].pupils",
            ),
            (
                UnitFields {
                    subject: Some("химия".into()),
                    ..class(9, "А", "2024/25")
                },
                "inputs[0].subject",
            ),
        ];
        for (fields, want) in cases {
            let err = check("inputs[0]", Uuid::new_v4(), OrganisationKind::Class, &fields, &s).unwrap_err();
            match err {
                ServiceError::Invalid { field, .. } => assert_eq!(field, want, "{fields:?}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn roles_need_a_name_that_is_not_a_person() {
        let s = school();
        let role = |name: &str| UnitFields {
            name: Some(name.into()),
            subject: Some("химия".into()),
            ..Default::default()
        };
        assert!(
            check(
                "i",
                Uuid::new_v4(),
                OrganisationKind::StaffRole,
                &role("учитель химии 11Б"),
                &s
            )
            .is_ok()
        );
        let err = check(
            "i",
            Uuid::new_v4(),
            OrganisationKind::StaffRole,
            &role("Петрова Анна Викторовна"),
            &s,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ServiceError::Invalid { field, message } if field == "i.name" && message.contains("Анна Викторовна")),
            "{err:?}"
        );
        let err = check(
            "i",
            Uuid::new_v4(),
            OrganisationKind::SubjectTeam,
            &UnitFields::default(),
            &s,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ServiceError::Invalid { field, .. } if field == "i.name"),
            "{err:?}"
        );
        let err = check("i", Uuid::new_v4(), OrganisationKind::School, &role("школа"), &s).unwrap_err();
        assert!(
            matches!(&err, ServiceError::Invalid { field, .. } if field == "i.kind"),
            "{err:?}"
        );
    }

    #[test]
    fn a_class_belongs_to_a_school_and_is_not_repeated() {
        let s = school();
        let a = check(
            "i",
            Uuid::new_v4(),
            OrganisationKind::Class,
            &class(9, "А", "2024/25"),
            &s,
        )
        .unwrap();
        let as_parent = OrganisationRow {
            kind: "CLASS".into(),
            parent_id: Some(s.id),
            ..OrganisationRow::top(a.id, a.name.clone(), "CLASS".into(), s.territory_id, vec![])
        };
        let err = check(
            "i",
            Uuid::new_v4(),
            OrganisationKind::Class,
            &class(9, "Б", "2024/25"),
            &as_parent,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ServiceError::Invalid { field, .. } if field == "i.parent"),
            "{err:?}"
        );
        let again = check(
            "j",
            Uuid::new_v4(),
            OrganisationKind::Class,
            &class(9, "а", "2024/2025"),
            &s,
        )
        .unwrap();
        assert!(check_unique("j", &again, std::slice::from_ref(&a)).is_err());
        let next_year = check(
            "k",
            Uuid::new_v4(),
            OrganisationKind::Class,
            &class(9, "А", "2025/26"),
            &s,
        )
        .unwrap();
        assert!(check_unique("k", &next_year, &[a]).is_ok());
    }
}
