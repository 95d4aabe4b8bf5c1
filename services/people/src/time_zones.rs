//! Time zones of territories: the zone a territory's plans take "today" and OVERDUE in.
//!
//! A territory's effective zone (`Territory.timeZone`, an IANA name) is, in this order:
//! 1. its own (`time_zone`, set by `createTerritory(input: {timeZone})`);
//! 2. for a region (a subject of the Federation), the zone of its administrative centre by
//!    [`REGION_ZONES`] when its name is listed there ("Забайкальский край" → `Asia/Chita`,
//!    UTC+9); regions on Moscow time are not listed, they get the default;
//! 3. the nearest ancestor's own or reference zone (a municipality takes its region's);
//! 4. [`DEFAULT_TIME_ZONE`] (Moscow time: the country, federal plans).
//!
//! Regions spanning several zones (Якутия: three) get their capital's; a municipality elsewhere in
//! them sets its own zone when it is created. Zone names are checked against the IANA database
//! the hub is built with; an unknown name is refused naming the field.

use roadmap_common::clock::DEFAULT_TIME_ZONE;

use crate::store::TerritoryRow;

/// Regions not on Moscow time: a key of the region's name (word prefixes, lower case, "ё" as
/// "е") and the IANA zone of its administrative centre (Федеральный закон «Об исчислении
/// времени» № 107-ФЗ, as amended through 2020).
pub const REGION_ZONES: &[(&str, &str)] = &[
    ("калининградская", "Europe/Kaliningrad"),
    ("самарская", "Europe/Samara"),
    ("удмуртская", "Europe/Samara"),
    ("астраханская", "Europe/Astrakhan"),
    ("саратовская", "Europe/Saratov"),
    ("ульяновская", "Europe/Ulyanovsk"),
    ("республика башкортостан", "Asia/Yekaterinburg"),
    ("курганская", "Asia/Yekaterinburg"),
    ("оренбургская", "Asia/Yekaterinburg"),
    ("пермский", "Asia/Yekaterinburg"),
    ("свердловская", "Asia/Yekaterinburg"),
    ("тюменская", "Asia/Yekaterinburg"),
    ("челябинская", "Asia/Yekaterinburg"),
    ("ханты-мансийский", "Asia/Yekaterinburg"),
    ("ямало-ненецкий", "Asia/Yekaterinburg"),
    ("омская", "Asia/Omsk"),
    ("новосибирская", "Asia/Novosibirsk"),
    ("алтайский край", "Asia/Barnaul"),
    ("республика алтай", "Asia/Barnaul"),
    ("томская", "Asia/Tomsk"),
    ("кемеровская", "Asia/Novokuznetsk"),
    ("красноярский", "Asia/Krasnoyarsk"),
    ("республика тыва", "Asia/Krasnoyarsk"),
    ("республика хакасия", "Asia/Krasnoyarsk"),
    ("иркутская", "Asia/Irkutsk"),
    ("республика бурятия", "Asia/Irkutsk"),
    ("забайкальский", "Asia/Chita"),
    ("амурская", "Asia/Yakutsk"),
    ("республика саха", "Asia/Yakutsk"),
    ("приморский", "Asia/Vladivostok"),
    ("хабаровский", "Asia/Vladivostok"),
    ("еврейская", "Asia/Vladivostok"),
    ("магаданская", "Asia/Magadan"),
    ("сахалинская", "Asia/Sakhalin"),
    ("камчатский", "Asia/Kamchatka"),
    ("чукотский", "Asia/Anadyr"),
];

/// The reference zone of a region named `name` (kind `REGION`), when listed.
pub fn region_zone(kind: &str, name: &str) -> Option<&'static str> {
    if kind != "REGION" {
        return None;
    }
    let folded = name.to_lowercase().replace('ё', "е");
    let words: Vec<&str> = folded
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '«' | '»' | '"'))
        .filter(|w| !w.is_empty())
        .collect();
    REGION_ZONES.iter().find_map(|(key, zone)| {
        let key: Vec<&str> = key.split(' ').collect();
        words
            .windows(key.len())
            .any(|w| w.iter().zip(&key).all(|(word, k)| word.starts_with(k)))
            .then_some(*zone)
    })
}

/// A territory's zone of its own or by reference, without looking up.
fn own(row: &TerritoryRow) -> Option<&str> {
    row.time_zone.as_deref().or_else(|| region_zone(&row.kind, &row.name))
}

/// The effective zone of `row` given its ancestors, nearest first (rules in the module docs).
pub fn effective<'a>(row: &'a TerritoryRow, ancestors: &'a [TerritoryRow]) -> &'a str {
    std::iter::once(row)
        .chain(ancestors)
        .find_map(own)
        .unwrap_or(DEFAULT_TIME_ZONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn row(name: &str, kind: &str, zone: Option<&str>) -> TerritoryRow {
        TerritoryRow {
            id: Uuid::new_v4(),
            name: name.into(),
            kind: kind.into(),
            parent_id: None,
            time_zone: zone.map(str::to_string),
        }
    }

    #[test]
    fn regions_of_the_seeds_have_their_zones() {
        // The seed documents' regions (tests/fixtures/roadmaps).
        assert_eq!(region_zone("REGION", "Забайкальский край"), Some("Asia/Chita"));
        assert_eq!(region_zone("REGION", "Хабаровский край"), Some("Asia/Vladivostok"));
        assert_eq!(region_zone("REGION", "Красноярский край"), Some("Asia/Krasnoyarsk"));
        assert_eq!(region_zone("REGION", "Сахалинская область"), Some("Asia/Sakhalin"));
        assert_eq!(
            region_zone("REGION", "Калининградская область"),
            Some("Europe/Kaliningrad")
        );
        assert_eq!(region_zone("REGION", "Республика Саха (Якутия)"), Some("Asia/Yakutsk"));
        // "Томская" is not "Омская"; Moscow-time regions are not listed.
        assert_eq!(region_zone("REGION", "Томская область"), Some("Asia/Tomsk"));
        assert_eq!(region_zone("REGION", "Московская область"), None);
        assert_eq!(region_zone("REGION", "Алтайский край"), Some("Asia/Barnaul"));
        // Only regions: a municipality named after a region's word inherits instead.
        assert_eq!(region_zone("MUNICIPALITY", "Хабаровский район"), None);
        for (_, zone) in REGION_ZONES {
            assert!(roadmap_common::clock::parse_time_zone("zone", zone).is_ok(), "{zone}");
        }
    }

    #[test]
    fn a_zone_is_own_else_by_reference_else_inherited_else_moscow() {
        let region = row("Забайкальский край", "REGION", None);
        let district = row("Читинский район", "MUNICIPALITY", None);
        assert_eq!(effective(&region, &[]), "Asia/Chita");
        assert_eq!(effective(&district, std::slice::from_ref(&region)), "Asia/Chita");
        let own = row("Район", "MUNICIPALITY", Some("Asia/Yakutsk"));
        assert_eq!(effective(&own, std::slice::from_ref(&region)), "Asia/Yakutsk");
        let moscow = row("Тверская область", "REGION", None);
        assert_eq!(effective(&district, std::slice::from_ref(&moscow)), DEFAULT_TIME_ZONE);
        let set = row("Тверская область", "REGION", Some("Europe/Kaliningrad"));
        assert_eq!(effective(&set, &[]), "Europe/Kaliningrad");
    }
}
