//! The web console: static assets embedded in the binary (served under `/ui/`), and the
//! sign-in that turns an admin token into a browser session.
//!
//! A session is a random id in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when the
//! admin listener speaks TLS) that expires; the server keeps only its SHA-256. Every state
//! change made with a session cookie must also carry the session's CSRF token in the
//! `x-csrf-token` header, which a page of another origin cannot read or set. Roles and tenants
//! are checked by the API exactly as for bearer tokens.

use super::api::{audit, AdminRequest, AdminResponse};
use super::auth::Principal;
use crate::handler::Shared;
use dashmap::DashMap;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "pw_session";

/// The console's files, embedded at build time: no CDN, nothing fetched at run time.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../console/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../console/app.css"),
    ),
    (
        "vendor/codemirror.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/vendor/codemirror/codemirror.js"),
    ),
    (
        "vendor/yaml.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/vendor/codemirror/yaml.js"),
    ),
    (
        "vendor/codemirror.css",
        "text/css; charset=utf-8",
        include_bytes!("../../console/vendor/codemirror/codemirror.css"),
    ),
];

/// A console asset by its path under `/ui/` (`""` is the app shell).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let name = if path.is_empty() { "index.html" } else { path };
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ct, body)| (*ct, *body))
}

/// Headers every admin-listener answer carries: the console runs only its own scripts and
/// styles, is never framed, and never leaks its URLs.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// One signed-in browser.
#[derive(Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    expires: Instant,
}

/// Live console sessions, by the SHA-256 of their cookie value.
pub struct Sessions {
    live: DashMap<String, Session>,
    ttl: Duration,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    SystemRandom::new()
        .fill(&mut b)
        .expect("the system RNG works");
    policy::identity::hex_encode(&b)
}

fn digest(cookie: &str) -> String {
    policy::identity::hex_encode(
        ring::digest::digest(&ring::digest::SHA256, cookie.as_bytes()).as_ref(),
    )
}

impl Sessions {
    /// Sessions that last `ttl` from sign-in.
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            live: DashMap::new(),
            ttl,
        }
    }

    /// Starts a session; returns the cookie value and the session.
    pub fn start(&self, principal: Principal) -> (String, Session) {
        // Expired sessions are dropped as new ones start, so the map stays bounded by the
        // sign-ins of one lifetime.
        let now = Instant::now();
        self.live.retain(|_, s| s.expires > now);
        let cookie = random_token();
        let session = Session {
            principal,
            csrf: random_token(),
            expires: now + self.ttl,
        };
        self.live.insert(digest(&cookie), session.clone());
        (cookie, session)
    }

    /// The live session a `Cookie` header names, if any.
    pub fn find(&self, cookie_header: Option<&str>) -> Option<Session> {
        let value = cookie_value(cookie_header?)?;
        let key = digest(value);
        let s = self.live.get(&key)?.clone();
        if s.expires <= Instant::now() {
            self.live.remove(&key);
            return None;
        }
        Some(s)
    }

    /// Ends the session a `Cookie` header names.
    pub fn end(&self, cookie_header: Option<&str>) {
        if let Some(v) = cookie_header.and_then(cookie_value) {
            self.live.remove(&digest(v));
        }
    }

    /// The `Set-Cookie` value for a new session (`secure` on a TLS listener).
    pub fn set_cookie(&self, value: &str, secure: bool) -> String {
        format!(
            "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            self.ttl.as_secs(),
            if secure { "; Secure" } else { "" }
        )
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE && !v.is_empty()).then_some(v)
    })
}

/// Constant-time comparison of a presented CSRF token with the session's.
pub fn csrf_ok(session: &Session, presented: Option<&str>) -> bool {
    let Some(p) = presented else { return false };
    let (a, b) = (p.as_bytes(), session.csrf.as_bytes());
    // Every byte is compared, so the time taken does not say how much of a guess was right.
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Who is signed in, and the CSRF token their page sends with every change.
pub fn whoami(principal: &Principal, csrf: Option<String>) -> Value {
    json!({
        "name": principal.name,
        "role": principal.role,
        "tenant": principal.tenant,
        "csrf": csrf,
    })
}

/// `POST /ui/login` with `{"token": ...}`: a console session for a valid admin token. JSON
/// only, so a cross-site form cannot sign a browser in to someone else's session.
pub async fn login(shared: &Arc<Shared>, req: AdminRequest) -> AdminResponse {
    if req.method != "POST" {
        return AdminResponse::error(405, "sign in with POST");
    }
    if !req
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return AdminResponse::error(415, "send {\"token\": ...} as application/json");
    }
    #[derive(serde::Deserialize)]
    struct Login {
        token: String,
    }
    let Ok(l) = serde_json::from_slice::<Login>(&req.body) else {
        return AdminResponse::error(400, "send {\"token\": ...}");
    };
    let Some(principal) = shared
        .admin_tokens
        .authenticate(Some(&format!("Bearer {}", l.token)))
    else {
        audit(shared, &req, None, "-", 401).await;
        return AdminResponse::error(401, "that token is not valid");
    };
    let (cookie, session) = shared.ui_sessions.start(principal.clone());
    let tenant = principal.tenant.clone().unwrap_or_else(|| "*".into());
    audit(shared, &req, Some(&principal), &tenant, 200).await;
    AdminResponse::json(200, whoami(&principal, Some(session.csrf)))
        .with("set-cookie", shared.ui_sessions.set_cookie(&cookie, false))
}

/// `POST /ui/logout` (with the session's CSRF token): ends the session.
pub async fn logout(shared: &Arc<Shared>, req: AdminRequest) -> AdminResponse {
    let Some(session) = shared.ui_sessions.find(req.cookie.as_deref()) else {
        return AdminResponse::json(200, json!({"signed_out": true}))
            .with("set-cookie", clear_cookie());
    };
    if req.method != "POST" || !csrf_ok(&session, req.csrf.as_deref()) {
        return AdminResponse::error(403, "signing out needs POST and the session's CSRF token");
    }
    shared.ui_sessions.end(req.cookie.as_deref());
    let tenant = session
        .principal
        .tenant
        .clone()
        .unwrap_or_else(|| "*".into());
    audit(shared, &req, Some(&session.principal), &tenant, 200).await;
    AdminResponse::json(200, json!({"signed_out": true})).with("set-cookie", clear_cookie())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AdminRole;

    fn auditor() -> Principal {
        Principal {
            name: "ann".into(),
            role: AdminRole::Auditor,
            tenant: Some("acme".into()),
        }
    }

    #[test]
    fn a_session_is_found_by_its_cookie_until_it_expires_or_ends() {
        let s = Sessions::new(Duration::from_secs(60));
        let (cookie, session) = s.start(auditor());
        let header = format!("other=1; {COOKIE}={cookie}");
        assert_eq!(s.find(Some(&header)).unwrap().principal, auditor());
        assert!(s.find(Some("pw_session=nope")).is_none());
        assert!(s.find(None).is_none());
        assert!(csrf_ok(&session, Some(&session.csrf)));
        assert!(!csrf_ok(&session, Some("x")) && !csrf_ok(&session, None));
        s.end(Some(&header));
        assert!(s.find(Some(&header)).is_none());
        let short = Sessions::new(Duration::ZERO);
        let (cookie, _) = short.start(auditor());
        assert!(short.find(Some(&format!("{COOKIE}={cookie}"))).is_none());
        assert!(s
            .set_cookie("v", true)
            .contains("HttpOnly; SameSite=Strict"));
        assert!(s.set_cookie("v", true).ends_with("; Secure"));
    }

    #[test]
    fn every_asset_is_embedded() {
        for name in [
            "",
            "app.js",
            "app.css",
            "vendor/codemirror.js",
            "vendor/yaml.js",
        ] {
            assert!(asset(name).is_some_and(|(_, b)| !b.is_empty()), "{name}");
        }
        assert!(asset("../Cargo.toml").is_none());
    }
}
