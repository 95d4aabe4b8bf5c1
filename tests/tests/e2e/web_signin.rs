//! The web target's production sign-in against a real OpenID Connect provider: `tests/oidc-provider`
//! (Node.js, npm `oidc-provider`, pinned by its `package-lock.json` and installed by the harness)
//! on a free loopback port, with one public client whose redirect URI is the web target's
//! `/auth/callback` and JWT access tokens for audience `roadmap-hub`. The gateway trusts the
//! provider's JWKS (a copy of the development router config with the provider added; the
//! development key stays for the test's own admin requests), so a visitor signed in through the
//! provider sees what the provider's token allows, through the gateway.
//!
//! Each test is bounded ([`bounded`]) and ends the provider's process (and the browser) whatever
//! happens: both are killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use base64::Engine as _;
use fantoccini::Locator;
use roadmap_common::config::OidcSettings;
use roadmap_common::pg_cluster::free_port;
use roadmap_e2e::TestHub;
use roadmap_hub::targets::Target;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::web::{Browser, STEP, bounded, zabaykalsky};

/// The web target's client id at the provider.
const CLIENT_ID: &str = "roadmap-web";
/// The resource indicator the web target asks tokens for; the provider gives them `aud`
/// `roadmap-hub`, the audience the router accepts.
const RESOURCE: &str = "urn:roadmap-hub";

/// The Node.js provider, one process per test; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Provider {
    /// Starts the provider for a web target at `web` (no trailing slash); the access tokens
    /// carry the claims written to `claims` (a JSON object) when each is issued.
    async fn start(web: &str, claims: &Path) -> anyhow::Result<Provider> {
        // Installs the provider's pinned dependencies the first time (blocking: a file lock).
        let dir = tokio::task::spawn_blocking(|| roadmap_e2e::node_package("oidc-provider")).await??;
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("CLIENT_ID", CLIENT_ID)
            .env("REDIRECT_URI", format!("{web}/auth/callback"))
            .env("RESOURCE", RESOURCE)
            .env("AUDIENCE", "roadmap-hub")
            .env("CLAIMS_FILE", claims)
            // Its stdin closing (this process gone) ends it too.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("node runs (Node.js 20 is needed)")?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = tokio::time::Instant::now() + STEP;
        let issuer = loop {
            let line = tokio::time::timeout_at(deadline, lines.next_line())
                .await
                .context("the OpenID Connect provider did not start in time")??
                .context("the OpenID Connect provider exited at start")?;
            let ready: Option<Value> = serde_json::from_str(&line).ok();
            if let Some(issuer) = ready.as_ref().and_then(|r| r["issuer"].as_str()) {
                break issuer.to_string();
            }
        };
        // The library writes notices on stdout later: read on, or it would write into a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Provider { child, issuer })
    }

    /// The `jwks_uri` of the provider's discovery document.
    async fn jwks_uri(&self) -> anyhow::Result<String> {
        let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", self.issuer))
            .await?
            .json()
            .await?;
        Ok(discovery["jwks_uri"].as_str().context("jwks_uri")?.to_string())
    }

    async fn finish(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// A temporary directory of the test's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("roadmap-signin-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// The web target's settings for `provider`, its pages at `web`.
fn settings(provider: &Provider, web: &str) -> OidcSettings {
    OidcSettings {
        issuer: Some(provider.issuer.clone()),
        client_id: Some(CLIENT_ID.to_string()),
        client_secret: None,
        scope: "openid".to_string(),
        resource: Some(RESOURCE.to_string()),
        public_url: Some(web.to_string()),
    }
}

/// The development router config trusting `provider` too: its JWKS (fetched from its
/// `jwks_uri`) and its issuer added to the development ones. Written into `dir`.
async fn router_config(dir: &Path, provider: &Provider) -> anyhow::Result<PathBuf> {
    let jwks = provider.jwks_uri().await?;
    let mut config = roadmap_e2e::dev_router_config()?;
    let providers = "  jwks_providers:\n";
    let issuers = "  issuers: [roadmap-hub-dev]\n";
    ensure!(
        config.contains(providers) && config.contains(issuers),
        "the development router config has no `jwt.jwks_providers` and `jwt.issuers` as expected"
    );
    config = config
        .replace(
            providers,
            &format!("{providers}    - source: remote\n      url: {jwks}\n      prefetch: true\n"),
        )
        .replace(
            issuers,
            &format!("  issuers: [roadmap-hub-dev, \"{}\"]\n", provider.issuer),
        );
    let path = dir.join("router.oidc.yaml");
    std::fs::write(&path, config).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The claims of a JWT, read without checking it (the gateway checks; the test reads who issued it).
fn claims_of(jwt: &str) -> anyhow::Result<Value> {
    let payload = jwt.split('.').nth(1).context("a JWT has three parts")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Waits until the browser shows an element `css` selects (a page of the provider, which has
/// not the hub's layout).
async fn wait_for(b: &Browser, css: &str) -> anyhow::Result<()> {
    if let Err(e) = b.client().wait().at_most(STEP).for_element(Locator::Css(css)).await {
        let at = b.client().current_url().await?;
        let shown = b.text("body").await.unwrap_or_default();
        let shown: String = shown.chars().take(600).collect();
        bail!("no {css} on {at} ({e}); the page shows: {shown}");
    }
    Ok(())
}

/// Fills the field `css` with `text`.
async fn fill(b: &Browser, css: &str, text: &str) -> anyhow::Result<()> {
    b.client()
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("no {css}"))?
        .send_keys(text)
        .await?;
    Ok(())
}

async fn press(b: &Browser, css: &str) -> anyhow::Result<()> {
    b.client()
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("no {css}"))?
        .click()
        .await?;
    Ok(())
}

#[tokio::test]
async fn web_sign_in_through_an_oidc_provider_shows_a_draft_through_the_gateway() {
    bounded(async {
        let scratch = Scratch::new()?;
        let claims = scratch.0.join("claims.json");
        std::fs::write(&claims, "{}")?;
        let port = free_port()?;
        let web = format!("http://127.0.0.1:{port}");
        let provider = Provider::start(&web, &claims).await?;
        let router = router_config(&scratch.0, &provider).await?;
        let oidc = settings(&provider, &web);
        let hub = TestHub::spawn_with(Target::ALL, |c| {
            c.router_config = router;
            c.ports.insert(Target::WEB.name().to_string(), port);
            c.oidc = oidc;
        })
        .await?;
        let running = hub.hub.as_ref().context("hub")?;
        ensure!(
            running.home_url(Target::WEB).as_deref() == Some(&format!("{web}/")),
            "the web target is on the port the provider redirects to"
        );
        roadmap_hub::demo::load(running).await?;
        let z = zabaykalsky(&hub).await?;
        // The provider's tokens make their holder a viewer of Zabaykalsky.
        std::fs::write(
            &claims,
            json!({ "roles": ["viewer"], "territory": z.region }).to_string(),
        )?;
        let title = "Черновик: дорожная карта Забайкальского края на 2028 год";
        let data = hub
            .gql(
                "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id state } }",
                json!({ "input": { "title": title, "level": "REGIONAL", "territory": z.region } }),
            )
            .await?;
        ensure!(data["createPlan"]["state"] == "DRAFT");
        let draft = data["createPlan"]["id"].as_str().context("id")?.to_string();
        let b = Browser::start().await?;

        let territory = format!("/territories/{}", z.region);
        b.open(&format!("{web}{territory}")).await?;
        ensure!(
            !b.text("main").await?.contains(title),
            "anonymous: the territory lists no draft"
        );
        b.click("header.site a[href='/signin']").await?;
        b.review("signin-oidc").await?;
        let login = b
            .client()
            .find(Locator::Css("a.oidc-login"))
            .await
            .context("the sign-in page offers the provider")?;
        let href = login.attr("href").await?.context("href")?;
        ensure!(
            href == format!("/auth/login?back=%2Fterritories%2F{}", z.region),
            "the sign-in returns to the page the visitor came from: {href}"
        );

        // At the provider: its development login (any login), then its consent.
        login.click().await?;
        wait_for(&b, "input[name='login']").await?;
        let at = b.client().current_url().await?;
        ensure!(
            at.as_str().starts_with(&provider.issuer),
            "the provider's login page, not {at}"
        );
        fill(&b, "input[name='login']", "anna").await?;
        fill(&b, "input[name='password']", "any").await?;
        press(&b, "button[type='submit']").await?;
        wait_for(&b, "input[name='prompt'][value='consent']").await?;
        press(&b, "button[type='submit']").await?;

        // Back on the hub's page it started from, signed in.
        let deadline = Instant::now() + STEP;
        while !b.client().current_url().await?.as_str().starts_with(&web) {
            ensure!(Instant::now() < deadline, "the provider did not send the visitor back");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        wait_for(&b, "footer.site").await?;
        ensure!(
            b.path().await? == territory,
            "back on {territory}, not {}",
            b.path().await?
        );
        ensure!(
            b.text("header.site").await?.contains("Выйти"),
            "the header offers to sign out"
        );
        let cookie = b
            .client()
            .get_named_cookie("roadmap_token")
            .await
            .context("the token cookie is set")?;
        ensure!(cookie.http_only() == Some(true), "the token cookie is HttpOnly");
        let token = claims_of(cookie.value())?;
        ensure!(
            token["iss"] == provider.issuer.as_str() && token["aud"] == "roadmap-hub" && token["sub"] == "anna",
            "the cookie holds the provider's access token: {token}"
        );
        ensure!(
            b.client().get_named_cookie("roadmap_signin").await.is_err(),
            "the sign-in's own cookie is gone"
        );

        // The draft, read through the gateway with the provider's token.
        ensure!(b.text("main").await?.contains(title), "the territory lists the draft");
        b.click(&format!("main a[href='/plans/{draft}']")).await?;
        ensure!(b.text("h1").await? == title);
        b.review("draft-signed-in-oidc").await?;

        // Signing out forgets the token: the draft is hidden again.
        b.click("header.site form.inline button[type='submit']").await?;
        b.open(&format!("{web}/plans/{draft}")).await?;
        ensure!(
            b.text("h1").await? == "Не найдено",
            "signed out: {}",
            b.text("h1").await?
        );

        b.finish().await?;
        provider.finish().await?;
        hub.finish().await
    })
    .await;
}

#[tokio::test]
async fn web_sign_in_refuses_a_callback_with_a_wrong_state_and_sets_no_cookie() {
    bounded(async {
        let scratch = Scratch::new()?;
        let claims = scratch.0.join("claims.json");
        std::fs::write(&claims, "{}")?;
        let port = free_port()?;
        let web = format!("http://127.0.0.1:{port}");
        let provider = Provider::start(&web, &claims).await?;
        let oidc = settings(&provider, &web);
        // The web target alone: the sign-in talks to the provider, not to the gateway.
        let closed = free_port()?;
        let hub = TestHub::spawn_with(&[Target::WEB], |c| {
            c.ports.insert(Target::WEB.name().to_string(), port);
            c.remote_urls
                .insert("gateway".into(), format!("http://127.0.0.1:{closed}/graphql"));
            c.oidc = oidc;
        })
        .await?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(STEP)
            .build()?;
        let set_cookies = |r: &reqwest::Response| -> Vec<String> {
            r.headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect()
        };

        // The start: to the provider's authorization endpoint with a PKCE challenge (S256) of
        // the verifier kept in the flow's cookie, and the resource the tokens are for.
        let start = http.get(format!("{web}/auth/login?back=%2Findicators")).send().await?;
        ensure!(start.status() == 303, "to the provider: {}", start.status());
        let location = start
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .context("Location")?;
        let authorize = reqwest::Url::parse(location)?;
        ensure!(authorize.as_str().starts_with(&provider.issuer), "{authorize}");
        let param = |name: &str| {
            authorize
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let cookies = set_cookies(&start);
        let flow_cookie = cookies
            .iter()
            .find(|c| c.starts_with("roadmap_signin="))
            .context("the flow's cookie")?;
        ensure!(
            flow_cookie.contains("HttpOnly") && flow_cookie.contains("SameSite=Lax"),
            "{flow_cookie}"
        );
        let pair = flow_cookie.split(';').next().context("cookie")?.to_string();
        let flow = claims_of(&format!("x.{}.y", pair.trim_start_matches("roadmap_signin=")))?;
        let verifier = flow["verifier"].as_str().context("verifier")?;
        let challenge = {
            use sha2::Digest as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        };
        ensure!(
            param("code_challenge") == challenge && param("code_challenge_method") == "S256",
            "PKCE: {authorize}"
        );
        ensure!(param("state") == flow["state"].as_str().unwrap_or("-") && param("resource") == RESOURCE);
        ensure!(param("redirect_uri") == format!("{web}/auth/callback") && param("scope") == "openid");
        ensure!(flow["back"] == "/indicators", "{flow}");

        let callback = |query: String| {
            http.get(format!("{web}/auth/callback?{query}"))
                .header("cookie", &pair)
                .send()
        };
        let no_token = |cookies: &[String]| !cookies.iter().any(|c| c.starts_with("roadmap_token="));

        // A wrong state: refused, said so, no token.
        let answer = callback("code=anything&state=forged".into()).await?;
        let (status, cookies) = (answer.status(), set_cookies(&answer));
        let page = answer.text().await?;
        ensure!(status == 400, "wrong state: {status}");
        ensure!(page.contains("параметр state ответа не совпадает"), "{page}");
        ensure!(no_token(&cookies), "no token cookie: {cookies:?}");
        ensure!(
            cookies
                .iter()
                .any(|c| c.starts_with("roadmap_signin=;") && c.contains("Max-Age=0")),
            "the flow's cookie is cleared: {cookies:?}"
        );

        // The provider's refusal, shown.
        let answer = callback(format!("error=access_denied&state={}", param("state"))).await?;
        let (status, cookies) = (answer.status(), set_cookies(&answer));
        let page = answer.text().await?;
        ensure!(status == 400 && page.contains("Вход отменён"), "{status} {page}");
        ensure!(no_token(&cookies), "{cookies:?}");

        // The right state and a code the provider never issued: its token endpoint's error.
        let answer = callback(format!("code=made-up&state={}", param("state"))).await?;
        let (status, cookies) = (answer.status(), set_cookies(&answer));
        let page = answer.text().await?;
        ensure!(status == 502, "token endpoint error: {status}");
        ensure!(page.contains("Поставщик входа не выдал токен: invalid_grant"), "{page}");
        ensure!(no_token(&cookies), "{cookies:?}");

        // A callback without the flow's cookie (another browser, or too late).
        let answer = http
            .get(format!("{web}/auth/callback?code=x&state={}", param("state")))
            .send()
            .await?;
        let status = answer.status();
        let page = answer.text().await?;
        if status != 400 || !page.contains("начатый вход не найден") {
            bail!("without the flow's cookie: {status} {page}");
        }

        provider.finish().await?;
        hub.finish().await
    })
    .await;
}
