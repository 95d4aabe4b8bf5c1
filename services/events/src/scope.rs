//! Who sees which events (the rules are in the crate docs, "Who sees which events"): a
//! [`Reader`] per request, subscription or webhook, applied by the log's SQL
//! ([`crate::store::read_log`]) and to live events ([`Reader::sees`]) alike; and
//! [`Territories`], the consumer's cache of territory ancestries that makes an event's scope
//! checkable without asking anyone at read time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::auth::{Actor, Claims, Drafts, Role};
use roadmap_common::people::PeopleClient;

use crate::store::EventRow;

/// What one reader may see of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reader {
    /// Events of plans that are drafts now: [`Actor::drafts`], the rule of `plans`/`measure`.
    pub drafts: Drafts,
    /// Territories at all (webhooks only: their registrant's scope); `None` everywhere.
    pub scope: Option<Uuid>,
}

impl Reader {
    /// Someone reading the log or subscribing: approved plans' events are public everywhere.
    pub fn of(actor: &Actor) -> Reader {
        Reader {
            drafts: actor.drafts(),
            scope: None,
        }
    }

    /// A webhook's deliveries: what its registrant may see, and only inside the registrant's
    /// territory (admins: anywhere).
    pub fn registrant(actor: &Actor) -> Reader {
        Reader {
            drafts: actor.drafts(),
            scope: if actor.has(Role::Admin) { None } else { actor.territory },
        }
    }

    /// The anonymous reader's view: approved plans' events, everywhere.
    pub fn public() -> Reader {
        Reader::of(&Actor::anonymous())
    }

    /// The same condition as the SQL of [`crate::store::read_log`], for live events.
    pub fn sees(&self, e: &EventRow) -> bool {
        let covered = |root: Uuid| e.territories.as_ref().is_some_and(|t| t.contains(&root));
        if self.scope.is_some_and(|root| !covered(root)) {
            return false;
        }
        !e.draft
            || match self.drafts {
                Drafts::All => true,
                Drafts::None => false,
                Drafts::Under(root) => covered(root),
            }
    }

    /// `($all, $root)` of the SQL: every draft, or those under `root` (none when both are off).
    pub fn draft_arguments(&self) -> (bool, Option<Uuid>) {
        match self.drafts {
            Drafts::All => (true, None),
            Drafts::None => (false, None),
            Drafts::Under(root) => (false, Some(root)),
        }
    }
}

/// A webhook's registrant as stored (`webhook_endpoint.registrant`): the claims that rebuild the
/// [`Actor`] whose view the webhook gets.
pub fn registrant_json(actor: &Actor) -> Value {
    serde_json::to_value(actor.claims()).unwrap_or(Value::Null)
}

/// The reader of a stored registrant; `None` (registered before registrants were kept) and an
/// unreadable one get the anonymous view, never more.
pub fn registrant_reader(stored: Option<&Value>) -> Reader {
    stored
        .and_then(|v| serde_json::from_value::<Claims>(v.clone()).ok())
        .and_then(|c| Actor::from_claims(c).ok())
        .map(|a| Reader::registrant(&a))
        .unwrap_or_else(Reader::public)
}

/// Ancestries of territories (the territory first), asked of the people subgraph once per
/// territory: territories never move, so an answer never goes stale.
#[derive(Clone)]
pub struct Territories {
    people: Option<PeopleClient>,
    known: Arc<Mutex<HashMap<Uuid, Vec<Uuid>>>>,
}

impl Territories {
    pub fn new(people: PeopleClient) -> Territories {
        Territories {
            people: Some(people),
            known: Arc::default(),
        }
    }

    /// Without a people subgraph (unit tests): every territory is its own root.
    pub fn unresolved() -> Territories {
        Territories {
            people: None,
            known: Arc::default(),
        }
    }

    /// The ancestry of the event's `context.territory` (`[]` without one). An error means the
    /// people subgraph did not answer: the consumer retries, as the event's readers depend on it.
    /// A territory people does not know is its own root (logged): it cannot block the log.
    pub async fn of_context(&self, context: &Value) -> ServiceResult<Vec<Uuid>> {
        let Some(territory) = context
            .get("territory")
            .and_then(Value::as_str)
            .and_then(|t| Uuid::parse_str(t).ok())
        else {
            return Ok(Vec::new());
        };
        if let Some(known) = self.lock().get(&territory) {
            return Ok(known.clone());
        }
        let Some(people) = &self.people else {
            return Ok(vec![territory]);
        };
        let ancestry = match people.territory_ancestry(territory).await {
            Ok(a) => a,
            Err(e) if e.code() == "BAD_USER_INPUT" => {
                tracing::warn!(%territory, "an event names a territory the people subgraph does not know");
                vec![territory]
            }
            Err(e) => return Err(e),
        };
        self.lock().insert(territory, ancestry.clone());
        Ok(ancestry)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Uuid>>> {
        // A poisoned cache still holds correct entries (they are inserted whole).
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use roadmap_common::outbox::OutboxEvent;
    use serde_json::json;

    use super::*;

    fn row(draft: bool, territories: Option<Vec<Uuid>>) -> EventRow {
        EventRow {
            event: OutboxEvent::new("MEASURE_STATUS_CHANGED", "Measure", Uuid::new_v4()),
            cursor: 1,
            territories,
            draft,
        }
    }

    fn actor(roles: &[&str], territory: Option<Uuid>) -> Actor {
        Actor::from_claims(Claims {
            sub: Some("someone".into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            territory: territory.map(|t| t.to_string()),
            ..Default::default()
        })
        .expect("actor")
    }

    #[test]
    fn drafts_follow_the_plans_rule_and_webhooks_their_registrants_scope() {
        let (region, district, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let in_district = row(true, Some(vec![district, region]));
        let public_elsewhere = row(false, Some(vec![other, region]));
        assert!(!Reader::public().sees(&in_district));
        assert!(Reader::public().sees(&public_elsewhere));
        let editor = actor(&["editor"], Some(district));
        assert!(Reader::of(&editor).sees(&in_district));
        assert!(Reader::of(&editor).sees(&public_elsewhere));
        assert!(!Reader::of(&actor(&["editor"], Some(other))).sees(&in_district));
        assert!(!Reader::of(&actor(&[], Some(district))).sees(&in_district));
        assert!(Reader::of(&actor(&["auditor"], Some(other))).sees(&in_district));
        // A webhook sees only its registrant's territory, even public events; admins anywhere.
        assert!(Reader::registrant(&editor).sees(&in_district));
        assert!(!Reader::registrant(&editor).sees(&public_elsewhere));
        assert!(!Reader::registrant(&editor).sees(&row(false, None)));
        assert!(Reader::registrant(&actor(&["admin"], Some(other))).sees(&in_district));
        // Stored and read back, the registrant keeps its view; none stored is anonymous.
        let stored = registrant_json(&editor);
        assert_eq!(registrant_reader(Some(&stored)), Reader::registrant(&editor));
        assert_eq!(registrant_reader(None), Reader::public());
        assert_eq!(registrant_reader(Some(&json!("garbage"))), Reader::public());
    }
}
