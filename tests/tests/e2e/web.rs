//! The web target in a real browser: headless Chromium (Debian `chromium` + `chromium-driver`,
//! installed by `.ci/run`) driven over WebDriver (fantoccini → a chromedriver this test starts on
//! a free port) against a hub of every target with the demo data, through the web target's own
//! pages and the gateway behind them. Every page visited is saved as a screenshot under
//! `target/web-screenshots/` for review, and checked with axe-core (vendored in
//! `tests/vendor/axe-core`): no serious or critical violation.
//!
//! An open measure page follows the gateway's `statusChanged` stream through the web target's
//! `/live` route (page 6 of issue 14): a status set through the gateway shows without reload.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use roadmap_common::auth::Role;
use roadmap_e2e::{TestHub, set_measure_status, token};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

/// Whole test, hub and browser included: a hung page or driver fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(180);
/// One navigation, one element to appear, chromedriver to answer.
pub(crate) const STEP: Duration = Duration::from_secs(20);

/// Chromium's flags: headless, and nothing that reaches out to the network by itself (updates,
/// sync, QUIC probes, first-run pages), so a test machine without internet behaves like any other.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Containers give /dev/shm 64 MB; Chromium then crashes on long pages.
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// axe-core, injected into every page the tests visit (never served by the web target).
const AXE: &str = include_str!("../../vendor/axe-core/axe.min.js");

/// Runs axe on the page and returns the serious and critical violations with a few of their
/// elements each.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] }).then(
  (r) => done(r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }))),
  (e) => done({ error: String(e) }));
"#;

/// Runs `test` within [`LIMIT`]; whatever happens, what it started (hub, chromedriver, Chromium)
/// is dropped with it.
pub(crate) async fn bounded(test: impl Future<Output = anyhow::Result<()>>) {
    match tokio::time::timeout(LIMIT, test).await {
        Ok(result) => result.expect("browser test"),
        Err(_) => panic!("the browser test did not finish within {LIMIT:?}"),
    }
}

/// A headless Chromium under a chromedriver of its own.
pub(crate) struct Browser {
    client: Option<Client>,
    driver: Child,
    /// A fresh profile per browser: no cookie or cache carried between tests.
    profile: PathBuf,
}

impl Browser {
    pub(crate) async fn start() -> anyhow::Result<Browser> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let profile = std::env::temp_dir().join(format!("roadmap-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).with_context(|| format!("creating {}", profile.display()))?;
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, which the Chromium it starts joins: `Drop` ends them together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().map_err(|e| {
            anyhow!(
                "cannot start chromedriver ({e}): the browser tests need Chromium and its driver \
                 (`apt-get install -y chromium chromium-driver fonts-dejavu-core`; `.ci/run` does it)"
            )
        })?;
        let mut browser = Browser {
            client: None,
            driver,
            profile,
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + STEP;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        loop {
            if http
                .get(format!("{url}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            if let Some(status) = browser.driver.try_wait()? {
                bail!("chromedriver exited at start ({status}); port {port} taken?");
            }
            ensure!(
                Instant::now() < deadline,
                "chromedriver did not answer on {url} within {STEP:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", browser.profile.display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "args": args }));
        let client = tokio::time::timeout(
            STEP,
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&url),
        )
        .await
        .context("Chromium did not start in time")?
        .context("starting Chromium through chromedriver")?;
        client
            .update_timeouts(TimeoutConfiguration::new(Some(STEP), Some(STEP), Some(Duration::ZERO)))
            .await?;
        browser.client = Some(client);
        Ok(browser)
    }

    pub(crate) fn client(&self) -> &Client {
        self.client.as_ref().expect("started")
    }

    pub(crate) async fn open(&self, url: &str) -> anyhow::Result<()> {
        self.client().goto(url).await.with_context(|| format!("opening {url}"))
    }

    /// Clicks the element `css` selects and waits for the page it leads to.
    pub(crate) async fn click(&self, css: &str) -> anyhow::Result<()> {
        let before = self.client().current_url().await?;
        let element = self
            .client()
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no {css} on {before}"))?;
        element.click().await.with_context(|| format!("clicking {css}"))?;
        let deadline = Instant::now() + STEP;
        while self.client().current_url().await? == before {
            ensure!(Instant::now() < deadline, "clicking {css} on {before} led nowhere");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.client()
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("footer.site"))
            .await
            .with_context(|| format!("the page after clicking {css} did not load"))?;
        Ok(())
    }

    pub(crate) async fn text(&self, css: &str) -> anyhow::Result<String> {
        match self.client().find(Locator::Css(css)).await {
            Ok(element) => Ok(element.text().await?),
            Err(e) => {
                // What the page shows instead, for the failure message.
                let shown = match self.client().find(Locator::Css("body")).await {
                    Ok(body) => body.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                let shown: String = shown.chars().take(600).collect();
                Err(anyhow!(e).context(format!("no {css} on {}; the page shows: {shown}", self.path().await?)))
            }
        }
    }

    pub(crate) async fn path(&self) -> anyhow::Result<String> {
        let url = self.client().current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        })
    }

    /// Saves a screenshot of the whole page as `target/web-screenshots/<name>.png` and runs
    /// axe-core on it: a serious or critical violation fails the test, with the elements named.
    pub(crate) async fn review(&self, name: &str) -> anyhow::Result<()> {
        self.screenshot(name).await?;
        let path = self.path().await?;
        self.accessible().await.with_context(|| format!("{name} ({path})"))
    }

    async fn screenshot(&self, name: &str) -> anyhow::Result<()> {
        let client = self.client();
        // The window as tall as the page (bounded), so the screenshot shows all of it; the
        // window is taller than its viewport by the browser's frame, hence the measuring again.
        for _ in 0..3 {
            let sizes = client
                .execute(
                    "return [window.innerHeight, document.documentElement.scrollHeight];",
                    vec![],
                )
                .await?;
            let (inner, full) = (sizes[0].as_u64().unwrap_or(0), sizes[1].as_u64().unwrap_or(0));
            let (_, window) = client.get_window_size().await?;
            if full <= inner || window >= 6000 {
                break;
            }
            client
                .set_window_size(1280, (window + full - inner).min(6000) as u32)
                .await?;
        }
        let png = client.screenshot().await?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, &png).with_context(|| format!("writing {}", file.display()))?;
        client.set_window_size(1280, 900).await?;
        Ok(())
    }

    /// axe-core's serious and critical violations on the page, none expected.
    async fn accessible(&self) -> anyhow::Result<()> {
        let client = self.client();
        client.execute(AXE, vec![]).await.context("injecting axe-core")?;
        let found = client
            .execute_async(AXE_RUN, vec![])
            .await
            .context("running axe-core")?;
        if let Some(error) = found.get("error") {
            bail!("axe-core failed: {error}");
        }
        let violations = found.as_array().cloned().unwrap_or_default();
        ensure!(
            violations.is_empty(),
            "serious or critical accessibility violations: {}",
            serde_json::to_string_pretty(&violations)?
        );
        Ok(())
    }

    /// Ends the session (chromedriver closes Chromium); `Drop` ends the driver.
    pub(crate) async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(client) = self.client.take() {
            client.close().await?;
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = self.driver.id() as libc::pid_t;
        // SAFETY: a signal to the process group this test created for chromedriver (its id is
        // chromedriver's pid); Chromium, started by chromedriver, is in it too.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        self.driver.wait().ok();
        std::fs::remove_dir_all(&self.profile).ok();
    }
}

fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots")
}

/// Every target with the demo data; returns the hub and the web target's address (no trailing
/// slash).
async fn demo_hub() -> anyhow::Result<(TestHub, String)> {
    let hub = TestHub::spawn().await?;
    let running = hub.hub.as_ref().context("hub")?;
    roadmap_hub::demo::load(running).await?;
    let web = running
        .home_url(Target::WEB)
        .context("the web target runs")?
        .trim_end_matches('/')
        .to_string();
    Ok((hub, web))
}

/// The Zabaykalsky regional plan (seed 002) and its chemistry measure, from the gateway.
pub(crate) struct Zabaykalsky {
    pub(crate) region: String,
    plan: String,
    chemistry: String,
}

pub(crate) async fn zabaykalsky(hub: &TestHub) -> anyhow::Result<Zabaykalsky> {
    let data = hub
        .gql(
            "{ plans(level: REGIONAL) { edges { node { id territory { id name } measures { id title } } } } }",
            json!({}),
        )
        .await?;
    let plan = data["plans"]["edges"]
        .as_array()
        .context("plans")?
        .iter()
        .map(|e| &e["node"])
        .find(|p| p["territory"]["name"] == "Забайкальский край")
        .context("the demo data has the Zabaykalsky plan")?;
    let chemistry = plan["measures"]
        .as_array()
        .context("measures")?
        .iter()
        .find(|m| m["title"] == "по химии")
        .context("plan 002 has the chemistry diagnostic work")?;
    let id = |v: &Value| v.as_str().map(str::to_string).context("id");
    Ok(Zabaykalsky {
        region: id(&plan["territory"]["id"])?,
        plan: id(&plan["id"])?,
        chemistry: id(&chemistry["id"])?,
    })
}

/// The district «Читинский район» under Zabaykalsky and its approved plan of one measure;
/// returns (plan id, measure id).
async fn one_measure_plan(
    hub: &TestHub,
    title: &str,
    level: &str,
    z: &Zabaykalsky,
    measure: &str,
) -> anyhow::Result<(String, String)> {
    let data = hub
        .gql(
            "mutation($p: ID!) { ensureTerritory(name: \"Читинский район\", kind: MUNICIPALITY, parent: $p) { id } }",
            json!({ "p": z.region }),
        )
        .await?;
    let district = data["ensureTerritory"]["id"].as_str().context("district")?;
    let data = hub
        .gql(
            "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id sections { measures { id } } } }",
            json!({ "input": { "title": title, "level": level, "territory": district, "state": "APPROVED",
                               "sections": [{ "number": "1", "title": "Диагностика",
                                              "measures": [{ "number": "1.1", "title": measure }] }] } }),
        )
        .await?;
    let plan = data["createPlan"]["id"].as_str().context("plan id")?.to_string();
    let measure = data["createPlan"]["sections"][0]["measures"][0]["id"]
        .as_str()
        .context("measure id")?
        .to_string();
    Ok((plan, measure))
}

/// What a district and a school of the region would enter: a district under Zabaykalsky with a
/// plan carrying out the chemistry diagnostic work of plan 002, and a school's roadmap (the
/// school seed 004, imported again for a school of that district) one of whose dated measures
/// carries out the district's; the school reports on the first day it held it. Returns the
/// school's measure and its title.
async fn chemistry_down_to_a_school(hub: &TestHub, z: &Zabaykalsky) -> anyhow::Result<(String, String)> {
    let (_, municipal) = one_measure_plan(
        hub,
        "Дорожная карта Читинского района",
        "MUNICIPAL",
        z,
        "Диагностическая работа по химии в школах района",
    )
    .await?;
    let data = hub
        .gql(
            "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) {
               plan { measures { id title occurrences { date } } } } }",
            json!({ "input": {
                "document": std::str::from_utf8(roadmap_hub::demo::SEEDS[4].text)?,
                "fileName": "школа-смоленка.txt",
                "level": "SCHOOL",
                "territory": "Забайкальский край/Читинский район",
                "owner": "МОУ СОШ с. Смоленка",
                "key": "web-test:smolenka",
                "state": "APPROVED",
            } }),
        )
        .await?;
    let dated = data["importRoadmap"]["plan"]["measures"]
        .as_array()
        .context("measures")?
        .iter()
        .find(|m| m["occurrences"][0]["date"].is_string())
        .context("the school seed has a dated measure")?;
    let school = dated["id"].as_str().context("id")?.to_string();
    let title = dated["title"].as_str().context("title")?.to_string();
    let day = dated["occurrences"][0]["date"].clone();
    let link = "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { state } }";
    hub.gql(link, json!({ "m": municipal, "i": z.chemistry })).await?;
    hub.gql(link, json!({ "m": school, "i": municipal })).await?;
    hub.gql(
        "mutation($m: ID!, $d: NaiveDate!) { reportOccurrence(measure: $m, date: $d, held: true, participants: 24) { date } }",
        json!({ "m": school, "d": day }),
    )
    .await?;
    Ok((school, title))
}

#[tokio::test]
async fn a_visitor_follows_the_chemistry_measure_from_the_overview_down_to_a_school() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let (school, school_title) = chemistry_down_to_a_school(&hub, &z).await?;
        let b = Browser::start().await?;

        b.open(&format!("{web}/")).await?;
        ensure!(b.text("h1").await? == "Обзор", "overview: {}", b.text("h1").await?);
        b.review("overview").await?;
        // axe is awake: an image without a text alternative is a critical violation.
        b.client()
            .execute(
                "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/assets/none.png\">');",
                vec![],
            )
            .await?;
        let found = b
            .accessible()
            .await
            .err()
            .context("axe-core finds an image without alt")?;
        ensure!(format!("{found}").contains("image-alt"), "{found}");

        b.click(&format!("main a[href='/territories/{}']", z.region)).await?;
        ensure!(b.text("h1").await? == "Забайкальский край");
        let children = b.text("section[aria-labelledby='children']").await?;
        ensure!(
            children.contains("Читинский район"),
            "the district is listed: {children}"
        );
        b.review("territory").await?;

        b.click(&format!("main a[href='/plans/{}']", z.plan)).await?;
        let title = b.text("h1").await?;
        ensure!(title.contains("в Забайкальском крае"), "plan 002: {title}");
        b.review("plan").await?;

        b.click(&format!("main a[href='/measures/{}']", z.chemistry)).await?;
        ensure!(b.text("h1").await?.ends_with("по химии"));
        let down = b.text("section[aria-labelledby='down']").await?;
        ensure!(
            down.contains("Дорожная карта Читинского района") && down.contains("школьный"),
            "the trace goes down to the school: {down}"
        );
        b.review("measure").await?;

        b.click(&format!("ul.trace.down a[href='/measures/{school}']")).await?;
        ensure!(b.text("h1").await?.ends_with(&school_title));
        let facts = b.text("dl.facts").await?;
        ensure!(facts.contains("(школьный)"), "a school's measure: {facts}");
        let up = b.text("section[aria-labelledby='up']").await?;
        ensure!(up.contains("по химии"), "the trace goes back up to the region: {up}");
        let dates = b.text("section[aria-labelledby='occurrences']").await?;
        ensure!(
            dates.contains("проведено, участников: 24"),
            "the school's report: {dates}"
        );
        b.review("school-measure").await?;

        b.finish().await?;
        hub.finish().await
    })
    .await;
}

#[tokio::test]
async fn the_indicator_chart_draws_the_zabaykalsky_chemistry_targets() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let b = Browser::start().await?;

        b.open(&format!("{web}/")).await?;
        b.click("header.site a[href='/indicators']").await?;
        b.review("indicators").await?;
        b.click("main a[href='/indicators/ege_below_min']").await?;
        b.review("indicator").await?;
        b.click(&format!(
            "main a[href='/indicators/ege_below_min/{}?subject=chemistry']",
            z.region
        ))
        .await?;
        let canvas = b
            .client()
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("[data-chart] canvas"))
            .await
            .context("the chart draws a canvas")?;
        let (_, _, width, height) = canvas.rectangle().await?;
        ensure!(
            width > 100.0 && height > 100.0,
            "the chart's canvas is {width}×{height}"
        );
        let page = b.text("main").await?;
        ensure!(page.contains("32,79"), "the 2023 baseline as written: {page}");
        b.review("indicator-territory").await?;

        b.finish().await?;
        hub.finish().await
    })
    .await;
}

/// How long a status change may take to reach an open page (outbox relay, event log, router).
const LIVE: Duration = Duration::from_secs(10);

/// The events subgraph's count of open `statusChanged` subscriptions (its `/metrics`).
async fn subscribers(hub: &TestHub) -> anyhow::Result<u64> {
    let events = hub
        .hub
        .as_ref()
        .and_then(|h| h.graphql_url(Target::EVENTS))
        .context("events url")?;
    let metrics = reqwest::get(events.replace("/graphql", "/metrics"))
        .await?
        .text()
        .await?;
    Ok(metrics
        .lines()
        .find_map(|l| l.strip_prefix("roadmap_subscribers{subgraph=\"events\"} "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64))
}

#[tokio::test]
async fn a_status_set_through_the_gateway_shows_on_the_open_measure_page_without_reload() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let b = Browser::start().await?;

        b.open(&format!("{web}/measures/{}", z.chemistry)).await?;
        let before = b.text("dl.facts .badge").await?;
        ensure!(before != "выполнено", "the demo measure is not done yet: {before}");
        // A mark on this document: a reload would lose it.
        b.client().execute("window.sameDocument = true;", vec![]).await?;

        // The page's script subscribes live (no cursor): wait until its subscription has
        // reached the events subgraph, or a change before that would not be sent to it.
        let deadline = Instant::now() + STEP;
        while subscribers(&hub).await? < 1 {
            ensure!(
                Instant::now() < deadline,
                "the open page did not subscribe within {STEP:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        set_measure_status(&hub, &z.chemistry, "DONE").await;
        // Read in one script call: the page's script replaces the badge element, so a found
        // element may go stale before its text is read.
        let read = "var b = document.querySelector('dl.facts .badge'); \
                    return b ? [b.textContent, b.className] : null;";
        let deadline = Instant::now() + LIVE;
        loop {
            let shown = b.client().execute(read, vec![]).await?;
            if shown[0] == "выполнено" {
                ensure!(
                    shown[1] == "badge status-done",
                    "the new badge is drawn as the server draws it: {shown}"
                );
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "the open page still shows {shown} {LIVE:?} after the status was set to DONE"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let same = b
            .client()
            .execute("return window.sameDocument === true;", vec![])
            .await?;
        ensure!(same == json!(true), "the badge changed without reloading the page");
        b.review("measure-done-live").await?;

        // And the server renders the same after a reload.
        b.client().refresh().await?;
        let after = b.text("dl.facts .badge").await?;
        ensure!(after == "выполнено", "after reload the page shows DONE, not {after}");

        b.finish().await?;
        hub.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_draft_plan_is_hidden_anonymously_and_shown_after_dev_sign_in() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let title = "Черновик: дорожная карта Забайкальского края на 2027 год";
        let data = hub
            .gql(
                "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id state } }",
                json!({ "input": { "title": title, "level": "REGIONAL", "territory": z.region } }),
            )
            .await?;
        ensure!(data["createPlan"]["state"] == "DRAFT");
        let draft = data["createPlan"]["id"].as_str().context("id")?.to_string();
        let b = Browser::start().await?;

        b.open(&format!("{web}/plans/{draft}")).await?;
        ensure!(
            b.text("h1").await? == "Не найдено",
            "anonymous: {}",
            b.text("h1").await?
        );
        b.review("draft-anonymous").await?;
        b.open(&format!("{web}/territories/{}", z.region)).await?;
        ensure!(
            !b.text("main").await?.contains(title),
            "the territory lists no draft anonymously"
        );

        b.click("header.site a[href='/signin']").await?;
        b.review("signin").await?;
        let region = z.region.parse().context("territory id")?;
        let viewer = token("web-viewer", &[Role::Viewer], Some(region));
        b.client()
            .find(Locator::Css("textarea#token"))
            .await?
            .send_keys(&viewer)
            .await?;
        b.click("form.signin button[type='submit']").await?;
        ensure!(b.path().await? == "/", "signed in, back on the overview");
        ensure!(
            b.text("header.site").await?.contains("Выйти"),
            "the header offers to sign out"
        );

        b.open(&format!("{web}/territories/{}", z.region)).await?;
        ensure!(b.text("main").await?.contains(title), "the territory lists the draft");
        b.click(&format!("main a[href='/plans/{draft}']")).await?;
        ensure!(b.text("h1").await? == title);
        b.review("draft-signed-in").await?;

        b.finish().await?;
        hub.finish().await
    })
    .await;
}

#[tokio::test]
async fn the_web_target_is_ready_when_its_gateway_is() {
    bounded(async {
        let http = reqwest::Client::builder().timeout(STEP).build()?;
        let hub = TestHub::spawn().await?;
        let web = hub.hub.as_ref().context("hub")?.home_url(Target::WEB).context("web")?;
        let ready = http.get(format!("{web}ready")).send().await?;
        ensure!(ready.status() == 200, "with its gateway: {}", ready.status());
        hub.finish().await?;

        // The web target alone (a split deployment) whose gateway does not answer: alive, not ready.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let hub = TestHub::spawn_with(&[Target::WEB], |c| {
            c.remote_urls
                .insert("gateway".into(), format!("http://{closed}/graphql"));
        })
        .await?;
        let web = hub.hub.as_ref().context("hub")?.home_url(Target::WEB).context("web")?;
        let health = http.get(format!("{web}health")).send().await?;
        ensure!(health.status() == 200, "alive: {}", health.status());
        let ready = http.get(format!("{web}ready")).send().await?;
        let status = ready.status();
        let why = ready.text().await?;
        ensure!(status == 503, "without its gateway: {status} {why}");
        ensure!(
            why.contains(&format!("http://{closed}/readiness")),
            "names the gateway: {why}"
        );
        hub.finish().await
    })
    .await;
}

#[tokio::test]
async fn the_auditor_goes_from_the_overview_to_what_is_missing_and_its_csv() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        // A district with a plan carrying out the chemistry measure, so the page has both sides.
        let (_, municipal) = one_measure_plan(
            &hub,
            "Дорожная карта Читинского района",
            "MUNICIPAL",
            &z,
            "Диагностическая работа по химии в школах района",
        )
        .await?;
        hub.gql(
            "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { state } }",
            json!({ "m": municipal, "i": z.chemistry }),
        )
        .await?;
        let b = Browser::start().await?;

        b.open(&format!("{web}/")).await?;
        b.click(&format!("main a.missing[href='/territories/{}/missing']", z.region))
            .await?;
        ensure!(b.text("h1").await? == "Чего не хватает: Забайкальский край");
        let gaps = b.text("section[aria-labelledby='gaps']").await?;
        ensure!(
            gaps.contains("Читинский район"),
            "measures the one district does not carry out: {gaps}"
        );
        let chemistry = b
            .client()
            .find_all(Locator::Css(&format!(
                "section[aria-labelledby='gaps'] a[href='/measures/{}']",
                z.chemistry
            )))
            .await?;
        ensure!(chemistry.is_empty(), "the chemistry measure has its implementer");
        let overdue = b.text("section[aria-labelledby='overdue'] h2").await?;
        ensure!(overdue.starts_with("Просроченные мероприятия ("), "{overdue}");
        let csv = b
            .client()
            .find(Locator::Css(&format!(
                "a[href='/territories/{}/missing/overdue.csv?days=30']",
                z.region
            )))
            .await
            .context("the overdue table's CSV link")?;
        let href = csv.attr("href").await?.context("href")?;
        let file = reqwest::get(format!("{web}{href}")).await?;
        ensure!(file.status() == 200, "CSV: {}", file.status());
        let bytes = file.bytes().await?;
        ensure!(bytes.starts_with("\u{feff}№;".as_bytes()), "a CSV for Excel");
        b.review("missing").await?;

        b.finish().await?;
        hub.finish().await
    })
    .await;
}

/// Plans the gateway lists to an admin (drafts included).
async fn plan_ids(hub: &TestHub) -> anyhow::Result<Vec<String>> {
    let data = hub
        .gql("{ plans(first: 200) { edges { node { id } } } }", json!({}))
        .await?;
    Ok(data["plans"]["edges"]
        .as_array()
        .context("plans")?
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_string))
        .collect())
}

/// Submits the upload form with `file` (a fixture) and waits for the preview.
async fn upload(b: &Browser, web: &str, file: &str, key: &str) -> anyhow::Result<()> {
    b.open(&format!("{web}/upload")).await?;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/roadmaps")
        .join(file);
    let path = path.canonicalize().with_context(|| format!("{}", path.display()))?;
    let c = b.client();
    c.find(Locator::Css("input#file"))
        .await?
        .send_keys(&path.display().to_string())
        .await?;
    c.find(Locator::Css("input#territory"))
        .await?
        .send_keys("Забайкальский край")
        .await?;
    c.find(Locator::Css("input#key")).await?.send_keys(key).await?;
    c.find(Locator::Css("form.upload button[type='submit']"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css("table.preview, p.problem"))
        .await
        .context("no preview after the upload")?;
    Ok(())
}

#[tokio::test]
async fn an_editor_uploads_a_docx_sees_it_parsed_next_to_its_rows_and_confirms() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let before = plan_ids(&hub).await?;
        let b = Browser::start().await?;
        b.open(&format!("{web}/signin")).await?;
        let editor = token(
            "web-editor",
            &[Role::Editor],
            Some(z.region.parse().context("territory id")?),
        );
        b.client()
            .find(Locator::Css("textarea#token"))
            .await?
            .send_keys(&editor)
            .await?;
        b.click("form.signin button[type='submit']").await?;
        b.click("header.site a[href='/upload']").await?;
        b.review("upload").await?;

        // A key of its own makes the DOCX of seed 002 a new plan, not a version of the demo's.
        upload(&b, &web, "formats/002.docx", "web-upload").await?;
        ensure!(
            b.text("h1").await? == "Проверка перед импортом",
            "{}",
            b.text("main").await?
        );
        let summary = b.text("main dl").await?;
        ensure!(summary.contains("002.docx (DOCX)"), "{summary}");
        ensure!(summary.contains("Новый план"), "{summary}");
        let rows = b.client().find_all(Locator::Css("table.preview tbody tr")).await?;
        ensure!(rows.len() > 30, "the parsed rows: {}", rows.len());
        // The chemistry row: its source line next to what was read from it.
        let chemistry = b
            .client()
            .find(Locator::XPath(
                "//table[contains(@class,'preview')]//tr[td[4][normalize-space()='по химии']]",
            ))
            .await
            .context("the chemistry row")?;
        let cells = chemistry.find_all(Locator::Css("td")).await?;
        let source = cells[1].text().await?;
        ensure!(source.contains("по химии"), "the source row: {source}");
        ensure!(b.text("h2#lint").await?.starts_with("Замечания"));
        b.review("upload-preview").await?;
        ensure!(plan_ids(&hub).await? == before, "the preview stored nothing");

        b.click("form.confirm a.cancel").await?;
        ensure!(b.path().await? == "/upload?cancelled=1", "cancelled: back to the form");
        ensure!(b.text("p.notice").await?.contains("ничего не сохранено"));
        ensure!(plan_ids(&hub).await? == before, "cancelling stored nothing");

        upload(&b, &web, "formats/002.docx", "web-upload").await?;
        b.click("form.confirm button[type='submit']").await?;
        let path = b.path().await?;
        ensure!(path.starts_with("/plans/"), "confirmed: on the plan's page, not {path}");
        let id = path.trim_start_matches("/plans/").to_string();
        let after = plan_ids(&hub).await?;
        ensure!(
            after.len() == before.len() + 1 && after.contains(&id),
            "one plan more: {id}"
        );
        ensure!(
            b.text("main").await?.contains("по химии"),
            "the imported plan's measures"
        );

        // The same file again: the preview says nothing would change and offers no import.
        upload(&b, &web, "formats/002.docx", "web-upload").await?;
        ensure!(b.text("main dl").await?.contains("Без изменений"));
        ensure!(b.client().find(Locator::Css("form.confirm button")).await.is_err());

        // Not a roadmap: the form again, with the importer's message naming the file.
        let notes = std::env::temp_dir().join(format!("notes-{}.txt", uuid::Uuid::new_v4().simple()));
        std::fs::write(&notes, "Просто текст без таблицы.\nЕщё строка.\n")?;
        b.open(&format!("{web}/upload")).await?;
        b.client()
            .find(Locator::Css("input#file"))
            .await?
            .send_keys(&notes.display().to_string())
            .await?;
        b.client()
            .find(Locator::Css("form.upload button[type='submit']"))
            .await?
            .click()
            .await?;
        b.client()
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("p.problem"))
            .await?;
        let problem = b.text("p.problem").await?;
        std::fs::remove_file(&notes).ok();
        let name = notes
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        ensure!(
            problem.contains("Файл не принят") && problem.contains(&name),
            "{problem}"
        );
        b.review("upload-refused").await?;
        b.finish().await?;
        hub.finish().await
    })
    .await;
}

#[tokio::test]
async fn an_open_plan_page_moves_a_changed_measure_between_its_totals_without_reload() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let b = Browser::start().await?;
        b.open(&format!("{web}/plans/{}", z.plan)).await?;
        let counts = "return ['DONE', 'IN_PROGRESS', 'OVERDUE'].map(function (s) { \
                      var el = document.querySelector('[data-count=\"' + s + '\"]'); \
                      return el ? parseInt(el.textContent, 10) : null; });";
        let before = b.client().execute(counts, vec![]).await?;
        let status = b
            .client()
            .execute(
                "return document.querySelector('[data-status-of=\"' + arguments[0] + '\"]').getAttribute('data-status');",
                vec![json!(z.chemistry)],
            )
            .await?;
        ensure!(status != "DONE", "the demo's chemistry measure is not done yet: {status}");
        b.client().execute("window.sameDocument = true;", vec![]).await?;
        let deadline = Instant::now() + STEP;
        while subscribers(&hub).await? < 1 {
            ensure!(Instant::now() < deadline, "the open plan page did not subscribe within {STEP:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        set_measure_status(&hub, &z.chemistry, "DONE").await;
        // The measure leaves its old status's total (when the page counts it) and joins DONE's.
        let index = |s: &str| ["DONE", "IN_PROGRESS", "OVERDUE"].iter().position(|x| *x == s);
        let mut expected = before.clone();
        expected[0] = json!(before[0].as_i64().unwrap_or(0) + 1);
        if let Some(i) = status.as_str().and_then(index) {
            expected[i] = json!(before[i].as_i64().unwrap_or(0) - 1);
        }
        let deadline = Instant::now() + LIVE;
        loop {
            let shown = b.client().execute(counts, vec![]).await?;
            if shown == expected {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "the totals show {shown}, expected {expected} (before {before}) {LIVE:?} after the change"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let same = b.client().execute("return window.sameDocument === true;", vec![]).await?;
        ensure!(same == json!(true), "the totals changed without reloading the page");
        b.review("plan-totals-live").await?;
        b.client().refresh().await?;
        let reloaded = b.client().execute(counts, vec![]).await?;
        ensure!(reloaded == expected, "the server counts the same after a reload: {reloaded}");
        b.finish().await?;
        hub.finish().await
    })
    .await;
}

/// The plan page lists its versions; a new version of plan 002 (one deadline and title changed,
/// a row removed, one added) shows field by field on its version page.
#[tokio::test]
async fn a_new_version_of_a_plan_shows_what_changed_on_its_version_page() {
    bounded(async {
        let (hub, web) = demo_hub().await?;
        let z = zabaykalsky(&hub).await?;
        let changed = crate::versions::changed_copy(&crate::import::fixture("002_587447f0e4c9bb26.txt"));
        let report = hub
            .gql(
                "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { status version } }",
                json!({ "input": { "document": changed, "fileName": "002-v2.txt", "level": "REGIONAL",
                        "territory": "Забайкальский край", "owner": "Правительство Забайкальского края" } }),
            )
            .await?;
        ensure!(report["importRoadmap"]["version"] == 2, "a new version: {report}");
        let b = Browser::start().await?;

        b.open(&format!("{web}/plans/{}", z.plan)).await?;
        let list = b.text("section[aria-labelledby='versions']").await?;
        ensure!(list.contains("002-v2.txt"), "the versions list: {list}");
        b.click(&format!("a[href='/plans/{}/versions/2']", z.plan)).await?;
        ensure!(b.text("h1").await?.starts_with("Версия 2 плана"));
        let changed = b.text("section[aria-labelledby='changed']").await?;
        for text in [
            "Май 2024 года",
            "Сентябрь 2024 года",
            "31.05.2024",
            "30.09.2024",
            "в районах края",
        ] {
            ensure!(changed.contains(text), "{text} in the changes: {changed}");
        }
        ensure!(b.text("section[aria-labelledby='added']").await?.contains("2.13."));
        ensure!(b.text("section[aria-labelledby='removed']").await?.contains("1.7."));
        b.review("plan-version").await?;

        b.click(&format!("a[href='/plans/{}/versions/1']", z.plan)).await?;
        ensure!(b.text("dl.facts").await?.contains("первая версия плана"));
        b.finish().await?;
        hub.finish().await
    })
    .await;
}
