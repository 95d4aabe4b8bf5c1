//! Page 7: sign in through the OpenID Connect provider when one is configured (a «Войти» link
//! to `/auth/login`, see [`crate::oidc`]), and in development by pasting a token from
//! `roadmap-hub token`. Either way the token is kept in an HttpOnly cookie and sent to the
//! gateway as `Authorization: Bearer` with every query of the visitor's pages. The gateway
//! verifies it; the web target only carries it.

use maud::{Markup, html};

use super::layout::{Visitor, page};

/// The cookie that carries the visitor's token.
pub const COOKIE: &str = "roadmap_token";

/// A JWT's characters (base64url and dots): anything else is refused before it reaches a header.
pub fn valid_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 8192 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The token in a `Cookie` header, if any.
pub fn token_from_cookies(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && valid_token(value)).then_some(value)
    })
}

/// `Set-Cookie` for a pasted token: 8 hours like the default token of `roadmap-hub token`.
pub fn set_cookie(token: &str) -> String {
    set_cookie_for(token, 28800)
}

/// `Set-Cookie` for a token kept `max_age` seconds: HttpOnly (no script reads it), SameSite=Lax
/// (not sent by other sites' forms).
pub fn set_cookie_for(token: &str, max_age: u64) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The sign-in page; `login` is the provider's sign-in link (`/auth/login?back=…`) when one is
/// configured.
pub fn render(visitor: Visitor, message: Option<&str>, login: Option<&str>) -> Markup {
    let body = html! {
        @if let Some(m) = message { p.problem role="alert" { (m) } }
        @if visitor.signed_in {
            p { "Вы вошли: страницы показывают то, что разрешает ваш токен (например, черновики своей территории)." }
            form method="post" action="/signout" { button type="submit" { "Выйти" } }
        }
        @if let Some(href) = login {
            p {
                "Войдите через учётную запись вашей организации, чтобы видеть черновики своей территории. "
                a.oidc-login href=(href) { "Войти" }
            }
            h2 { "Вход для разработки" }
        }
        p {
            "Вход для разработки: вставьте токен, выданный командой "
            code { "roadmap-hub token --role viewer --territory \"Забайкальский край\"" }
            ". Без входа видны только утверждённые планы."
        }
        form.signin method="post" action="/signin" {
            label for="token" { "Токен" }
            textarea #token name="token" rows="4" cols="60" required autocomplete="off" spellcheck="false" {}
            button type="submit" { "Войти" }
        }
    };
    page("Вход", visitor, &[], body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_cookie_is_read_among_others() {
        assert_eq!(token_from_cookies("a=1; roadmap_token=x.y-z_1; b=2"), Some("x.y-z_1"));
        assert_eq!(token_from_cookies("a=1"), None);
        assert_eq!(token_from_cookies("roadmap_token=bad\r\nX: 1"), None);
        assert_eq!(token_from_cookies("roadmap_token="), None);
    }

    #[test]
    fn tokens_are_jwt_characters_only() {
        assert!(valid_token("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(!valid_token("a b"));
        assert!(!valid_token("a;b"));
        assert!(set_cookie("t").contains("HttpOnly"));
        assert!(set_cookie_for("t", 3600).ends_with("Max-Age=3600"));
    }
}
