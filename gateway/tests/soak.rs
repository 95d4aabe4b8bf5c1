//! A short smoke of the soak bench (`benches/soak.rs`, `roadmap_e2e::soak`) in the normal test
//! run: the same mixed load through a split deployment of this binary, 15 s with 100
//! subscribers, and what must hold: no error, no event lost, none twice, in order. Memory growth
//! is the bench's to judge (release, minutes).

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_short_soak_has_no_errors_and_loses_no_events() {
    let options = roadmap_e2e::soak::Options::smoke();
    let report = roadmap_e2e::split::bounded(Duration::from_secs(240), "soak smoke", async {
        roadmap_e2e::soak::run(env!("CARGO_BIN_EXE_roadmap-hub").as_ref(), &options)
            .await
            .expect("the soak run")
    })
    .await;
    report.print();
    assert!(report.logged > 0, "status changes reached the log");
    assert_eq!(
        report.delivered,
        report.logged * options.subscribers,
        "every subscriber got every event"
    );
    let failures = report.failures(None);
    assert!(failures.is_empty(), "{failures:?}");
}

/// The soak bench's warm-up waits for the router's per-subscription buffers to fill; its size
/// must be the router config's.
#[test]
fn the_soak_knows_the_routers_buffer_size() {
    for config in ["router.config.yaml", "router.production.yaml"] {
        let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(config))
            .expect("the router config");
        let capacity = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("broadcast_capacity:"))
            .map(|v| v.trim().parse::<usize>().expect("a number"));
        assert_eq!(capacity, Some(roadmap_e2e::soak::ROUTER_BUFFER), "{config}");
    }
}
