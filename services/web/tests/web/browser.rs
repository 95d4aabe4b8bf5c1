//! The pages in a real browser: headless Chromium (Debian `chromium`) loads each page from the
//! web router (against the stand-in gateway of `served`), the chart draws, and a screenshot of
//! each page is saved under `target/web-screenshots/` for review. No WebDriver client is needed
//! for this much: `--dump-dom` prints the DOM after the scripts ran. That the pages read without
//! JavaScript is shown by the HTML itself (`pages`, `served`: every number is in the markup;
//! headless Chromium's `--dump-dom` and `--screenshot` need scripts on).
//!
//! Ignored by default until `.ci/run` installs Chromium; run with
//! `apt-get install -y chromium && cargo test -p roadmap-web -- --ignored`. The browser tests of
//! issue 14 against a real hub (clicking through, live updates, dev sign-in) come with the
//! rebuilt hub.

use std::process::Command;

use crate::served::setup;

fn chromium(args: &[&str]) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .args(args)
        .output()
        .expect("chromium (apt-get install -y chromium)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screenshot_dir() -> String {
    let dir = format!("{}/../../target/web-screenshots", env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

#[tokio::test]
#[ignore = "needs Chromium: apt-get install -y chromium"]
async fn pages_render_in_chromium_and_the_chart_draws() {
    let s = setup().await;
    let dir = screenshot_dir();
    let pages = [
        ("overview", "/", "Федеральные планы"),
        ("territory", "/territories/ter-zab", "Муниципалитеты"),
        ("plan", "/plans/plan-zab", "ПРОСРОЧЕНО"),
        ("measure", "/measures/m-2-3", "Охват территорий"),
        ("indicators", "/indicators", "ege_below_min"),
        (
            "indicator",
            "/indicators/ege_below_min/ter-zab?subject=chemistry",
            "32,79",
        ),
        ("signin", "/signin", "roadmap-hub token"),
    ];
    for (name, path, text) in pages {
        let url = format!("{}{path}", s.web);
        let dom = tokio::task::spawn_blocking(move || {
            let dir = screenshot_dir();
            chromium(&[
                &format!("--screenshot={dir}/{name}.png"),
                "--window-size=1280,1600",
                &url,
            ]);
            chromium(&["--dump-dom", &url])
        })
        .await
        .expect("chromium");
        assert!(dom.contains(text), "{name}: {text} not in the DOM");
        if name == "indicator" {
            assert!(dom.contains("class=\"uplot"), "the chart did not draw");
            assert!(dom.contains("<canvas"), "the chart has no canvas");
        }
    }
    assert!(std::path::Path::new(&format!("{dir}/indicator.png")).exists());
}
