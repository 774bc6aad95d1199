//! console: the dispatcher's console behind the stack's HTTP API, under `/console`. Sign-in
//! against the stack's Cognito user pool; the review inbox a page at a time from its index;
//! an item with its reasons, draft and source payload; fix, release and dismiss through the
//! review desk the CLI uses ([`domain::desk::Desk`]), so a release here and one from the
//! CLI race exactly as two CLI releases do.
//!
//! Every request but the sign-in form's proves a session (the ID token in the session
//! cookie, verified against the pool's keys); every form carries a CSRF token bound to that
//! session; a role that may not act gets no button, and a crafted post a 403.

pub mod auth;
mod cash;
pub mod dead_letters;
mod inbox;
mod plans;
mod shipments;
mod stores;
mod wiring;

use std::sync::Arc;

use auth::{Role, Session, SignIn, Verifier};
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::messages::TaskRequested;
use domain::ports::{
    secret_json, AuditTrail, CashBook, Outbox, PlanStore, Queue, ReportShelf, ReviewInbox, Secrets,
    ShipmentStore, StatusHistory, StoreRules,
};
use links::{LinkKeys, LinkSecret};

pub use wiring::Config;

/// What the console reads and acts through, each behind the domain's port, and the user
/// pool behind two small ones of its own.
pub struct Console {
    pub reviews: Arc<dyn ReviewInbox>,
    pub shipments: Arc<dyn ShipmentStore>,
    pub rules: Arc<dyn StoreRules>,
    pub tasks: Arc<dyn Queue<TaskRequested>>,
    pub audit: Arc<dyn AuditTrail>,
    /// A shipment's courier events and customer messages, for its timeline.
    pub history: Arc<dyn StatusHistory>,
    pub outbox: Arc<dyn Outbox>,
    /// The link keys, which also sign the CSRF tokens.
    pub secrets: Arc<dyn Secrets>,
    pub sign_in: Arc<dyn SignIn>,
    pub verifier: Arc<Verifier>,
    pub dead_letters: Arc<dyn dead_letters::DeadLetters>,
    /// Hand-overs and the day's cash-out tasks.
    pub cash: Arc<dyn CashBook>,
    /// The cash reports the nightly reconciliation stores.
    pub reports: Arc<dyn ReportShelf>,
    /// The dispatch run's plans.
    pub plans: Arc<dyn PlanStore>,
}

impl Console {
    /// Answers one request of the HTTP API.
    pub async fn handle(&self, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        http_api::serve(self.router(), &event).await
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/console", get(|| async { Redirect::to("/console/inbox") }))
            .route("/console/static/console.css", get(stylesheet))
            .route("/console/login", get(login_form).post(login))
            .route("/console/logout", post(logout))
            .route("/console/inbox", get(inbox::list))
            .route("/console/inbox/{id}", get(inbox::show))
            .route("/console/inbox/{id}/{action}", post(inbox::act))
            .route("/console/shipments", get(shipments::list))
            .route("/console/shipments/{key}", get(shipments::show))
            .route("/console/cash", get(cash::show))
            .route("/console/cash/{day}/handover", post(cash::record))
            .route("/console/cash/{day}/{file}", get(cash::report))
            .route("/console/plans", get(plans::show))
            .route("/console/dlq", get(dead_letters::index))
            .route("/console/dlq/{queue}", get(dead_letters::show))
            .route("/console/dlq/{queue}/redrive", post(dead_letters::redrive))
            .route("/console/stores", get(stores::index))
            .route("/console/stores/open", get(stores::open))
            .route(
                "/console/stores/{channel}/{store}",
                get(stores::show).post(stores::save),
            )
            .fallback(not_found)
            .with_state(App {
                reviews: self.reviews.clone(),
                shipments: self.shipments.clone(),
                rules: self.rules.clone(),
                tasks: self.tasks.clone(),
                audit: self.audit.clone(),
                history: self.history.clone(),
                outbox: self.outbox.clone(),
                secrets: self.secrets.clone(),
                sign_in: self.sign_in.clone(),
                verifier: self.verifier.clone(),
                dead_letters: self.dead_letters.clone(),
                cash: self.cash.clone(),
                reports: self.reports.clone(),
                plans: self.plans.clone(),
            })
    }
}

/// The app's state: the same ports, cheap to clone per request.
#[derive(Clone)]
struct App {
    reviews: Arc<dyn ReviewInbox>,
    shipments: Arc<dyn ShipmentStore>,
    rules: Arc<dyn StoreRules>,
    tasks: Arc<dyn Queue<TaskRequested>>,
    audit: Arc<dyn AuditTrail>,
    history: Arc<dyn StatusHistory>,
    outbox: Arc<dyn Outbox>,
    secrets: Arc<dyn Secrets>,
    sign_in: Arc<dyn SignIn>,
    verifier: Arc<Verifier>,
    dead_letters: Arc<dyn dead_letters::DeadLetters>,
    cash: Arc<dyn CashBook>,
    reports: Arc<dyn ReportShelf>,
    plans: Arc<dyn PlanStore>,
}

impl App {
    /// The review desk the CLI uses, over the same ports.
    fn desk(&self) -> domain::desk::Desk<'_> {
        domain::desk::Desk::over(
            self.reviews.as_ref(),
            self.rules.as_ref(),
            self.shipments.as_ref(),
            self.tasks.as_ref(),
        )
    }

    async fn keys(&self) -> Result<LinkKeys, Response> {
        let secret: LinkSecret = secret_json(self.secrets.as_ref(), links::SECRET_NAME)
            .await
            .map_err(|error| {
                tracing::error!(%error, "the keys cannot be read");
                unavailable()
            })?;
        secret.keys().map_err(|error| {
            tracing::error!(%error, "the keys are not usable");
            unavailable()
        })
    }

    /// The signed-in operator and the session's CSRF token; otherwise the answer: the
    /// sign-in page for no or a stale session.
    async fn operator(&self, headers: &HeaderMap) -> Result<Signed, Response> {
        let Some(token) = auth::cookie_value(headers, auth::SESSION_COOKIE) else {
            return Err(Redirect::to("/console/login").into_response());
        };
        let session = match self.verifier.session(token).await {
            Ok(session) => session,
            Err(auth::Rejected::KeysUnavailable(error)) => {
                tracing::error!(%error, "the user pool's keys cannot be read");
                return Err(unavailable());
            }
            Err(rejected) => {
                tracing::info!(%rejected, "session refused");
                let mut response = Redirect::to("/console/login").into_response();
                set_cookie(&mut response, &auth::cookie(auth::SESSION_COOKIE, "", 0));
                return Err(response);
            }
        };
        let csrf = self.keys().await?.tag(&csrf_context(&session.token));
        Ok(Signed { session, csrf })
    }

    /// [`App::operator`] for a form that acts: the role must reach `needed` (else 403, with
    /// nothing done) and the form must carry the session's CSRF token (else 403).
    async fn acting(
        &self,
        headers: &HeaderMap,
        needed: Role,
        csrf: &str,
    ) -> Result<Signed, Response> {
        let signed = self.operator(headers).await?;
        if signed.session.role < needed {
            tracing::warn!(user = %signed.session.user, role = signed.session.role.as_str(), "an action above the role refused");
            return Err(forbidden(
                Some(&signed),
                &format!(
                    "Your role ({}) may not do this.",
                    signed.session.role.as_str()
                ),
            ));
        }
        let keys = self.keys().await?;
        if !keys.check_tag(&csrf_context(&signed.session.token), csrf) {
            tracing::warn!(user = %signed.session.user, "a form without its session's CSRF token refused");
            return Err(forbidden(
                Some(&signed),
                "This form is out of date. Open the page again and repeat.",
            ));
        }
        Ok(signed)
    }
}

/// A verified session and its CSRF token.
struct Signed {
    session: Session,
    csrf: String,
}

impl Signed {
    fn operator(&self) -> pages::console::Operator<'_> {
        pages::console::Operator {
            user: &self.session.user,
            role: self.session.role.as_str(),
            csrf: &self.csrf,
        }
    }
}

fn csrf_context(token: &str) -> String {
    format!("console-csrf|{token}")
}

fn login_context(nonce: &str) -> String {
    format!("console-login|{nonce}")
}

/// A session lasts as long as Cognito's ID token (an hour by default).
const SESSION_MAX_AGE_S: u32 = 3600;

async fn login_form(State(app): State<App>) -> Response {
    let keys = match app.keys().await {
        Ok(keys) => keys,
        Err(answer) => return answer,
    };
    let nonce = random_token();
    let csrf = keys.tag(&login_context(&nonce));
    let mut response = page(StatusCode::OK, pages::console::sign_in(&csrf, None));
    set_cookie(
        &mut response,
        &auth::cookie(auth::LOGIN_COOKIE, &nonce, 900),
    );
    response
}

#[derive(serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let keys = match app.keys().await {
        Ok(keys) => keys,
        Err(answer) => return answer,
    };
    let genuine = auth::cookie_value(&headers, auth::LOGIN_COOKIE)
        .is_some_and(|nonce| keys.check_tag(&login_context(nonce), &form.csrf));
    if !genuine {
        return forbidden(None, "This sign-in form is out of date. Open it again.");
    }
    // A fresh form for a second try.
    let again = |status: StatusCode, problem: &str| {
        let nonce = random_token();
        let mut response = page(
            status,
            pages::console::sign_in(&keys.tag(&login_context(&nonce)), Some(problem)),
        );
        set_cookie(
            &mut response,
            &auth::cookie(auth::LOGIN_COOKIE, &nonce, 900),
        );
        response
    };
    let token = match app
        .sign_in
        .sign_in(form.username.trim(), &form.password)
        .await
    {
        Ok(token) => token,
        Err(auth::SignInError::Refused) => {
            return again(StatusCode::UNAUTHORIZED, "Incorrect user name or password.")
        }
        Err(auth::SignInError::Challenge(what)) => {
            return again(
                StatusCode::UNAUTHORIZED,
                &format!("The account needs {what} before it can sign in here."),
            )
        }
        Err(auth::SignInError::Unavailable(error)) => {
            tracing::error!(%error, "sign-in failed");
            return unavailable();
        }
    };
    match app.verifier.session(&token).await {
        Ok(session) => {
            tracing::info!(user = %session.user, role = session.role.as_str(), "signed in");
            let mut response = Redirect::to("/console/inbox").into_response();
            set_cookie(
                &mut response,
                &auth::cookie(auth::SESSION_COOKIE, &token, SESSION_MAX_AGE_S),
            );
            set_cookie(&mut response, &auth::cookie(auth::LOGIN_COOKIE, "", 0));
            response
        }
        Err(auth::Rejected::NoRole) => again(
            StatusCode::FORBIDDEN,
            "This account is in none of the console's groups (viewer, dispatcher, admin).",
        ),
        Err(rejected) => {
            tracing::error!(%rejected, "the pool's own token refused");
            unavailable()
        }
    }
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(answer) = app.acting(&headers, Role::Viewer, &form.csrf).await {
        return answer;
    }
    let mut response = Redirect::to("/console/login").into_response();
    set_cookie(&mut response, &auth::cookie(auth::SESSION_COOKIE, "", 0));
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        pages::console::stylesheet(),
    )
        .into_response()
}

async fn not_found() -> Response {
    http_api::not_found()
}

fn forbidden(signed: Option<&Signed>, why: &str) -> Response {
    let operator = signed.map(Signed::operator);
    page(
        StatusCode::FORBIDDEN,
        pages::console::forbidden(operator.as_ref(), why),
    )
}

fn unavailable() -> Response {
    http_api::unavailable()
}

fn page(status: StatusCode, html: String) -> Response {
    http_api::page(status, html)
}

fn set_cookie(response: &mut Response, cookie: &str) {
    match HeaderValue::from_str(cookie) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        // Tokens and nonces are base64url: always header-safe.
        Err(error) => tracing::error!(%error, "a cookie that is no header value"),
    }
}

/// 32 random bytes, base64url.
fn random_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests;
