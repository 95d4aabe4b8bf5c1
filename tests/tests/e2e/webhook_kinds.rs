//! A webhook's filter reads back every event kind it was registered with (the hand-written
//! `EventKind::ALL` of old listed 5 of the 9, so `DEADLINE_MISSED`, `OCCURRENCE_REPORTED`,
//! `PLAN_IMPORTED` and `PLAN_APPROVED` vanished from `Webhook.filter.kinds`).

use roadmap_e2e::TestHub;
use serde_json::{Value, json};

/// Every `EventKind`, in the schema's order.
const KINDS: [&str; 9] = [
    "MEASURE_STATUS_CHANGED",
    "LINK_CONFIRMED",
    "LINK_CHANGED",
    "TARGET_SET",
    "OBSERVATION_RECORDED",
    "PLAN_APPROVED",
    "DEADLINE_MISSED",
    "OCCURRENCE_REPORTED",
    "PLAN_IMPORTED",
];

#[tokio::test]
async fn a_webhook_registered_with_all_nine_kinds_reads_back_nine() {
    let hub = TestHub::spawn().await.expect("hub");
    // Nothing listens there; no event is produced, so nothing is sent.
    let input = json!({ "url": "http://127.0.0.1:9/kinds", "filter": { "kinds": KINDS } });
    let data = hub
        .gql(
            "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { \
             webhook { id filter { kinds } } } }",
            json!({ "input": input }),
        )
        .await
        .expect("registerWebhook");
    let webhook = &data["registerWebhook"]["webhook"];
    assert_eq!(webhook["filter"]["kinds"], json!(KINDS), "as registered");
    let id = webhook["id"].as_str().expect("id");

    // Read back from the stored filter: by id (the loader) and in the list.
    let data = hub
        .gql(
            "query($id: ID!) { webhook(id: $id) { filter { kinds } } webhooks { id filter { kinds } } }",
            json!({ "id": id }),
        )
        .await
        .expect("webhook");
    assert_eq!(data["webhook"]["filter"]["kinds"], json!(KINDS), "by id");
    let listed: Vec<&Value> = data["webhooks"]
        .as_array()
        .expect("webhooks")
        .iter()
        .filter(|w| w["id"] == id)
        .collect();
    assert_eq!(listed.len(), 1, "{:#}", data["webhooks"]);
    assert_eq!(listed[0]["filter"]["kinds"], json!(KINDS), "listed");
    hub.finish().await.expect("finish");
}
