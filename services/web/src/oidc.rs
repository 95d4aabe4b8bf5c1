//! The production sign-in: OpenID Connect authorization code flow with PKCE (S256), by hand over
//! the gateway's HTTP client, for a provider named by `ROADMAP_OIDC_ISSUER`.
//!
//! The path of a sign-in:
//! 1. `/auth/login?back=<path>` reads the provider's discovery document (once per process; a
//!    failed read is tried again next time), makes a random `state`, `nonce` and PKCE verifier,
//!    keeps them with `back` in a short-lived HttpOnly cookie ([`FLOW_COOKIE`], SameSite=Lax so
//!    it comes back on the provider's redirect) and redirects to the authorization endpoint;
//! 2. the provider signs the visitor in and redirects to `/auth/callback?code=&state=`;
//! 3. the callback compares `state` (and `iss`, when the provider sends it) with the cookie,
//!    exchanges the code with the verifier at the token endpoint, checks the ID token's `nonce`
//!    (read without its signature: it came straight from the token endpoint over the connection
//!    the client opened), and keeps the *access token* in the same `roadmap_token` cookie the
//!    development sign-in uses, for as long as the token lives (`expires_in`).
//!
//! The web target does not verify the access token: it only carries it, and the gateway verifies
//! it against the provider's JWKS (audience `roadmap-hub`) on every query, as it does any token.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use roadmap_common::config::OidcSettings;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::pages::signin;

/// The cookie that carries a sign-in in progress (state, nonce, verifier, where to go back).
pub const FLOW_COOKIE: &str = "roadmap_signin";
/// Where a sign-in starts.
pub const LOGIN_PATH: &str = "/auth/login";
/// Where the provider sends the visitor back.
pub const CALLBACK_PATH: &str = "/auth/callback";
/// How long a visitor has to sign in at the provider.
const FLOW_SECONDS: u32 = 600;
/// Cookie lifetime when the token response has no `expires_in`.
const DEFAULT_TOKEN_SECONDS: u64 = 3600;

/// A configured provider; cheap to clone.
#[derive(Clone)]
pub struct Oidc {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    scope: String,
    resource: Option<String>,
    redirect_uri: String,
    /// Cookies only over HTTPS when the pages are served over it.
    secure: bool,
    http: reqwest::Client,
    discovery: tokio::sync::OnceCell<Discovery>,
}

/// What the sign-in reads of the provider's discovery document.
#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

/// A sign-in in progress, kept in [`FLOW_COOKIE`].
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// A local path to return to.
    pub back: String,
}

/// Why a sign-in failed, as the visitor reads it on the sign-in page.
#[derive(Debug)]
pub struct Failure {
    /// Whether the provider (rather than the request) failed: HTTP 502 instead of 400.
    pub upstream: bool,
    pub message: String,
}

impl Failure {
    fn request(message: impl Into<String>) -> Self {
        Failure {
            upstream: false,
            message: message.into(),
        }
    }

    fn upstream(message: impl Into<String>) -> Self {
        Failure {
            upstream: true,
            message: message.into(),
        }
    }
}

/// The token endpoint's answer, success or error.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    id_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A signed-in visitor's token, how long to keep it and the local path to go back to.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub max_age: u64,
    pub back: String,
}

impl Oidc {
    /// The provider of `settings`, `None` without an issuer; an error names a missing setting.
    pub fn from_settings(settings: &OidcSettings, http: reqwest::Client) -> anyhow::Result<Option<Oidc>> {
        let Some(issuer) = settings.issuer.clone() else {
            return Ok(None);
        };
        let needed = |value: &Option<String>, what: &str| {
            value
                .clone()
                .ok_or_else(|| anyhow::anyhow!("ROADMAP_OIDC_ISSUER (oidc_issuer) is set, so {what} must be set too"))
        };
        let client_id = needed(&settings.client_id, "ROADMAP_OIDC_CLIENT_ID (oidc_client_id)")?;
        let public_url = needed(&settings.public_url, "ROADMAP_WEB_PUBLIC_URL (web_public_url)")?;
        Ok(Some(Oidc {
            inner: Arc::new(Inner {
                issuer,
                client_id,
                client_secret: settings.client_secret.clone(),
                scope: settings.scope.clone(),
                resource: settings.resource.clone(),
                redirect_uri: format!("{public_url}{CALLBACK_PATH}"),
                secure: public_url.starts_with("https://"),
                http,
                discovery: tokio::sync::OnceCell::new(),
            }),
        }))
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn redirect_uri(&self) -> &str {
        &self.inner.redirect_uri
    }

    /// The discovery document, read once.
    async fn discovery(&self) -> Result<&Discovery, Failure> {
        self.inner
            .discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.inner.issuer.trim_end_matches('/')
                );
                let failed = |why: String| {
                    tracing::warn!(%url, %why, "OpenID Connect discovery failed");
                    Failure::upstream(
                        "Поставщик входа недоступен: не удалось прочитать его настройки. Попробуйте позже.",
                    )
                };
                let response = self
                    .inner
                    .http
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(failed(format!("HTTP {status}")));
                }
                let discovery: Discovery = response.json().await.map_err(|e| failed(e.to_string()))?;
                if discovery.issuer != self.inner.issuer {
                    return Err(failed(format!(
                        "the document names issuer {}, not the configured {}",
                        discovery.issuer, self.inner.issuer
                    )));
                }
                Ok(discovery)
            })
            .await
    }

    /// Starts a sign-in that returns to `back`: the provider's authorization URL and the
    /// `Set-Cookie` value keeping the flow.
    pub async fn start(&self, back: &str) -> Result<(String, String), Failure> {
        let discovery = self.discovery().await?;
        let random = || random_text().map_err(|e| Failure::upstream(format!("Нет случайных чисел: {e}")));
        let flow = Flow {
            state: random()?,
            nonce: random()?,
            verifier: random()?,
            back: local_path(back).to_string(),
        };
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint).map_err(|e| {
            tracing::warn!(endpoint = %discovery.authorization_endpoint, %e, "bad authorization endpoint");
            Failure::upstream("Поставщик входа указал неверный адрес входа.")
        })?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.inner.client_id)
                .append_pair("redirect_uri", &self.inner.redirect_uri)
                .append_pair("scope", &self.inner.scope)
                .append_pair("state", &flow.state)
                .append_pair("nonce", &flow.nonce)
                .append_pair("code_challenge", &challenge(&flow.verifier))
                .append_pair("code_challenge_method", "S256");
            if let Some(resource) = &self.inner.resource {
                query.append_pair("resource", resource);
            }
        }
        Ok((url.into(), self.flow_cookie(&flow)))
    }

    /// `Set-Cookie` keeping `flow` for [`FLOW_SECONDS`], sent back to `/auth/` only.
    fn flow_cookie(&self, flow: &Flow) -> String {
        let value = BASE64URL.encode(serde_json::to_vec(flow).unwrap_or_default());
        format!(
            "{FLOW_COOKIE}={value}; Path=/auth/; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}{}",
            self.secure_attribute()
        )
    }

    /// `Set-Cookie` ending the flow (sent with every callback answer, success or not).
    pub fn clear_flow_cookie(&self) -> String {
        format!(
            "{FLOW_COOKIE}=; Path=/auth/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            self.secure_attribute()
        )
    }

    /// `Set-Cookie` for the visitor's token.
    pub fn token_cookie(&self, signed_in: &SignedIn) -> String {
        format!(
            "{}{}",
            signin::set_cookie_for(&signed_in.token, signed_in.max_age),
            self.secure_attribute()
        )
    }

    fn secure_attribute(&self) -> &'static str {
        if self.inner.secure { "; Secure" } else { "" }
    }

    /// Ends a sign-in: `flow` from the cookie (none: expired or another browser) and the
    /// callback's parameters; the visitor's token, or why not.
    pub async fn finish(&self, flow: Option<Flow>, params: &Callback) -> Result<SignedIn, Failure> {
        if let Some(error) = &params.error {
            let detail = params
                .error_description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            return Err(Failure::request(if error == "access_denied" {
                format!("Вход отменён у поставщика входа{detail}.")
            } else {
                format!("Поставщик входа отказал во входе: {error}{detail}.")
            }));
        }
        let flow = flow.ok_or_else(|| {
            Failure::request(
                "Вход не завершён: начатый вход не найден (прошло больше 10 минут или он начат в другом браузере). Войдите ещё раз.",
            )
        })?;
        if params.state.as_deref() != Some(flow.state.as_str()) {
            return Err(Failure::request(
                "Вход отклонён: параметр state ответа не совпадает с начатым входом. Войдите ещё раз.",
            ));
        }
        if params.iss.as_deref().is_some_and(|iss| iss != self.inner.issuer) {
            return Err(Failure::request(
                "Вход отклонён: ответ пришёл не от настроенного поставщика входа (параметр iss).",
            ));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Failure::request("Вход отклонён: в ответе поставщика нет кода авторизации (code)."))?;
        let discovery = self.discovery().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.inner.redirect_uri),
            ("client_id", &self.inner.client_id),
            ("code_verifier", &flow.verifier),
        ];
        if let Some(secret) = &self.inner.client_secret {
            form.push(("client_secret", secret));
        }
        if let Some(resource) = &self.inner.resource {
            form.push(("resource", resource));
        }
        let response = self
            .inner
            .http
            .post(&discovery.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(endpoint = %discovery.token_endpoint, %e, "token endpoint unreachable");
                Failure::upstream("Поставщик входа недоступен: не удалось обменять код на токен. Попробуйте позже.")
            })?;
        let status = response.status();
        let answer: TokenAnswer = response.json().await.map_err(|e| {
            tracing::warn!(%status, %e, "token endpoint answered something that is not JSON");
            Failure::upstream(format!(
                "Поставщик входа ответил на запрос токена не JSON (HTTP {status})."
            ))
        })?;
        if let Some(error) = answer.error {
            let detail = answer.error_description.map(|d| format!(" ({d})")).unwrap_or_default();
            return Err(Failure::upstream(format!(
                "Поставщик входа не выдал токен: {error}{detail}."
            )));
        }
        let token = answer
            .access_token
            .filter(|t| status.is_success() && signin::valid_token(t))
            .ok_or_else(|| {
                Failure::upstream(format!(
                    "Поставщик входа не выдал токен доступа в виде JWT (HTTP {status}): проверьте настройку ресурса или области (ROADMAP_OIDC_RESOURCE, ROADMAP_OIDC_SCOPE)."
                ))
            })?;
        if let Some(id_token) = answer.id_token
            && nonce_of(&id_token).as_deref() != Some(flow.nonce.as_str())
        {
            return Err(Failure::upstream(
                "Вход отклонён: ID-токен поставщика не относится к начатому входу (nonce).",
            ));
        }
        Ok(SignedIn {
            token,
            max_age: answer.expires_in.unwrap_or(DEFAULT_TOKEN_SECONDS),
            back: flow.back,
        })
    }
}

/// The callback's query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Where the sign-in starts: [`LOGIN_PATH`]`?back=<back>`.
pub fn login_href(back: &str) -> String {
    let mut url = reqwest::Url::parse("http://web").expect("a constant URL");
    url.set_path(LOGIN_PATH);
    url.query_pairs_mut().append_pair("back", local_path(back));
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The flow in a `Cookie` header, if any and readable.
pub fn flow_from_cookies(header: &str) -> Option<Flow> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        if name != FLOW_COOKIE {
            return None;
        }
        serde_json::from_slice(&BASE64URL.decode(value).ok()?).ok()
    })
}

/// `path` when it is a path of this site (`/…`, not `//host` or `/\host`, which browsers read
/// as another site), else `/`.
pub fn local_path(path: &str) -> &str {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control());
    if local { path } else { "/" }
}

/// 32 random bytes as base64url (43 characters: a PKCE verifier's allowed alphabet and length).
fn random_text() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(BASE64URL.encode(bytes))
}

/// The PKCE S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    BASE64URL.encode(Sha256::digest(verifier.as_bytes()))
}

/// The `nonce` claim of a JWT, read without checking its signature.
fn nonce_of(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(&BASE64URL.decode(payload).ok()?).ok()?;
    claims["nonce"].as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_the_rfc_7636_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_local_paths_are_gone_back_to() {
        assert_eq!(local_path("/plans/1?x=2"), "/plans/1?x=2");
        assert_eq!(
            login_href("/plans/1?x=2&y"),
            "/auth/login?back=%2Fplans%2F1%3Fx%3D2%26y"
        );
        assert_eq!(login_href("//evil.example"), "/auth/login?back=%2F");
        for other in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "plans",
            "/a\r\nb",
        ] {
            assert_eq!(local_path(other), "/", "{other}");
        }
    }

    #[test]
    fn the_flow_cookie_reads_back_among_others() {
        let settings = OidcSettings {
            issuer: Some("https://id.example".into()),
            client_id: Some("web".into()),
            public_url: Some("https://roadmaps.example".into()),
            scope: "openid".into(),
            ..Default::default()
        };
        let oidc = Oidc::from_settings(&settings, reqwest::Client::new()).unwrap().unwrap();
        assert_eq!(oidc.redirect_uri(), "https://roadmaps.example/auth/callback");
        let flow = Flow {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            back: "/plans/1".into(),
        };
        let cookie = oidc.flow_cookie(&flow);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.ends_with("; Secure"));
        let value = cookie.split(';').next().unwrap();
        assert_eq!(flow_from_cookies(&format!("a=1; {value}; b=2")), Some(flow));
        assert_eq!(flow_from_cookies("roadmap_signin=garbage"), None);
    }

    #[test]
    fn a_missing_client_id_is_named() {
        let settings = OidcSettings {
            issuer: Some("https://id.example".into()),
            public_url: Some("https://roadmaps.example".into()),
            ..Default::default()
        };
        let e = Oidc::from_settings(&settings, reqwest::Client::new()).err().unwrap();
        assert!(e.to_string().contains("ROADMAP_OIDC_CLIENT_ID"), "{e}");
        assert!(
            Oidc::from_settings(&OidcSettings::default(), reqwest::Client::new())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_nonce_is_read_from_the_id_token() {
        let payload = BASE64URL.encode(br#"{"nonce":"abc","sub":"x"}"#);
        assert_eq!(nonce_of(&format!("h.{payload}.s")).as_deref(), Some("abc"));
        assert_eq!(nonce_of("nonsense"), None);
    }
}
