//! Who is signed in: the user pool's ID token, kept in an `HttpOnly; Secure;
//! SameSite=Strict` cookie and verified on every request against the pool's published
//! keys (JWKS): signature (RS256), issuer, audience (the console's app client), expiry, and
//! that it is an ID token. The role is the highest of the user's groups.

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a user may do, from the pool's groups: each includes the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// Acts: fixes, releases and dismisses review items.
    Dispatcher,
    /// Also edits store settings.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Dispatcher => "dispatcher",
            Role::Admin => "admin",
        }
    }

    /// The highest role among the user's groups; none for a user in none of them.
    pub fn of_groups(groups: &[String]) -> Option<Role> {
        groups
            .iter()
            .filter_map(|group| match group.as_str() {
                "viewer" => Some(Role::Viewer),
                "dispatcher" => Some(Role::Dispatcher),
                "admin" => Some(Role::Admin),
                _ => None,
            })
            .max()
    }
}

/// A verified sign-in.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The ID token itself: the CSRF token is bound to it.
    pub token: String,
}

/// Why a token is not a session. Each is permanent for that token: sign in again.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("not a valid token: {0}")]
    Invalid(String),
    #[error("no key {0:?} in the pool's JWKS")]
    UnknownKey(String),
    #[error("not an ID token")]
    NotAnIdToken,
    #[error("the user is in none of the console's groups")]
    NoRole,
    /// The pool's keys could not be fetched: transient, the page asks to come back.
    #[error("the pool's keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// The pool's signing keys.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The keys; `fresh` asks past any cache (a token names a key not seen yet: rotated).
    async fn keys(&self, fresh: bool) -> Result<Arc<JwkSet>, String>;
}

/// Checks ID tokens of one pool and one app client.
pub struct Verifier {
    pub issuer: String,
    pub client_id: String,
    pub keys: Arc<dyn KeySource>,
}

#[derive(serde::Deserialize)]
struct Claims {
    token_use: String,
    #[serde(rename = "cognito:username")]
    username: Option<String>,
    email: Option<String>,
    sub: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

impl Verifier {
    pub async fn session(&self, token: &str) -> Result<Session, Rejected> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Rejected::Invalid(e.to_string()))?;
        let kid = header
            .kid
            .ok_or_else(|| Rejected::Invalid("no key id".into()))?;
        let mut keys = self
            .keys
            .keys(false)
            .await
            .map_err(Rejected::KeysUnavailable)?;
        if keys.find(&kid).is_none() {
            keys = self
                .keys
                .keys(true)
                .await
                .map_err(Rejected::KeysUnavailable)?;
        }
        let jwk = keys
            .find(&kid)
            .ok_or_else(|| Rejected::UnknownKey(kid.clone()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| Rejected::Invalid(e.to_string()))?;
        // RS256 only, whatever the header says: the pool signs with nothing else.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| Rejected::Invalid(e.to_string()))?
            .claims;
        if claims.token_use != "id" {
            return Err(Rejected::NotAnIdToken);
        }
        let role = Role::of_groups(&claims.groups).ok_or(Rejected::NoRole)?;
        Ok(Session {
            user: claims.username.or(claims.email).unwrap_or(claims.sub),
            role,
            token: token.to_owned(),
        })
    }
}

/// The pool's JWKS over HTTPS, cached: fetched at the first sign-in check, again after an
/// hour, or when a token names a key the cache lacks (at most once a minute, so tokens
/// with made-up key ids cannot make the function hammer the endpoint).
pub struct JwksOverHttp {
    pub url: String,
    pub client: reqwest::Client,
    cached: Mutex<Option<(Arc<JwkSet>, Instant)>>,
}

const KEYS_FOR: Duration = Duration::from_secs(3600);
const REFETCH_AFTER: Duration = Duration::from_secs(60);

impl JwksOverHttp {
    pub fn new(url: String, client: reqwest::Client) -> JwksOverHttp {
        JwksOverHttp {
            url,
            client,
            cached: Mutex::new(None),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Option<(Arc<JwkSet>, Instant)>> {
        // A panic while holding it left a value that is still whole.
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl KeySource for JwksOverHttp {
    async fn keys(&self, fresh: bool) -> Result<Arc<JwkSet>, String> {
        if let Some((keys, at)) = self.cache().clone() {
            let age = at.elapsed();
            if age < KEYS_FOR && (!fresh || age < REFETCH_AFTER) {
                return Ok(keys);
            }
        }
        let keys: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let keys = Arc::new(keys);
        *self.cache() = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }
}

/// Signs a user in with their password; the ID token on success.
#[async_trait]
pub trait SignIn: Send + Sync {
    async fn sign_in(&self, user: &str, password: &str) -> Result<String, SignInError>;
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong user name or password (said alike, so names cannot be probed).
    #[error("refused")]
    Refused,
    /// The pool asks for something first (a new password): permanent until it is done.
    #[error("the user pool asks for {0} first")]
    Challenge(String),
    /// The pool did not answer: transient.
    #[error("the user pool is unavailable: {0}")]
    Unavailable(String),
}

/// The user pool's `InitiateAuth` with `USER_PASSWORD_AUTH` for the console's app client.
pub struct CognitoSignIn {
    pub client: aws_sdk_cognitoidentityprovider::Client,
    pub client_id: String,
}

#[async_trait]
impl SignIn for CognitoSignIn {
    async fn sign_in(&self, user: &str, password: &str) -> Result<String, SignInError> {
        use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError;
        use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", password)
            .send()
            .await;
        match answer {
            Ok(answer) => {
                if let Some(challenge) = answer.challenge_name {
                    return Err(SignInError::Challenge(challenge.as_str().to_owned()));
                }
                answer
                    .authentication_result
                    .and_then(|result| result.id_token)
                    .ok_or_else(|| SignInError::Unavailable("no ID token in the answer".into()))
            }
            Err(error) => match error.as_service_error() {
                Some(
                    InitiateAuthError::NotAuthorizedException(_)
                    | InitiateAuthError::UserNotFoundException(_),
                ) => Err(SignInError::Refused),
                Some(InitiateAuthError::PasswordResetRequiredException(_)) => {
                    Err(SignInError::Challenge("a password reset".into()))
                }
                Some(InitiateAuthError::UserNotConfirmedException(_)) => {
                    Err(SignInError::Challenge("a confirmation".into()))
                }
                _ => Err(SignInError::Unavailable(
                    aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&error).to_string(),
                )),
            },
        }
    }
}

/// The session cookie's name; its path is the console's.
pub const SESSION_COOKIE: &str = "cb_session";
/// The sign-in form's own CSRF cookie (there is no session yet to bind a token to).
pub const LOGIN_COOKIE: &str = "cb_login";

/// A console cookie: only over HTTPS (browsers treat 127.0.0.1 as secure too), never read
/// by scripts, never sent on a request another site starts.
pub fn cookie(name: &str, value: &str, max_age_s: u32) -> String {
    format!("{name}={value}; Path=/console; Max-Age={max_age_s}; Secure; HttpOnly; SameSite=Strict")
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}
