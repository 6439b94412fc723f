//! The local identity provider and JWT authorizer.
//!
//! `local token <user>` issues a token shaped like a Cognito ID token (`sub`, `cognito:username`, `email`, `iss`,
//! `aud`, `token_use`, `auth_time`, `iat`, `exp`, `jti`), with the issuer and audience the template's authorizer
//! expects, signed (HS256) with a key kept in the data directory. The gateway then verifies tokens as API Gateway's
//! JWT authorizer does: signature, `iss`, `aud`, `exp`; the claims go into the event as strings.
//!
//! A user's `sub` is derived from the user name, so the same name always maps to the same user (and tasks).

use crate::routes::Authorizer;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use local_core::files;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::{collections::HashMap, path::Path};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

pub struct LocalIdp {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    authorizer: Authorizer,
}

impl LocalIdp {
    /// Opens (creating on first use) the signing key under `data_dir`.
    pub fn open(data_dir: &Path, authorizer: Authorizer) -> std::io::Result<Self> {
        let key = files::load_or_create_secret(&data_dir.join("keys").join("token-signing.key"), 32)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&authorizer.issuer]);
        validation.set_audience(&authorizer.audience);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            authorizer,
        })
    }

    /// A token for `username`, valid for `ttl`.
    pub fn issue(&self, username: &str, email: Option<&str>, ttl: time::Duration) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = json!({
            "sub": sub_for(username),
            "cognito:username": username,
            "iss": self.authorizer.issuer,
            "aud": self.authorizer.audience.first().cloned().unwrap_or_default(),
            "token_use": "id",
            "auth_time": now,
            "iat": now,
            "exp": now + ttl.whole_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        if let Some(email) = email {
            claims["email"] = json!(email);
            claims["email_verified"] = json!(true);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of a JSON object cannot fail")
    }

    /// Verifies an `Authorization` header value (`Bearer <jwt>` or the bare token, as API Gateway accepts) and
    /// returns the claims as API Gateway puts them in the event: every value a string.
    pub fn verify(&self, authorization: Option<&str>) -> Result<HashMap<String, String>, AuthError> {
        let raw = authorization.map(str::trim).filter(|s| !s.is_empty()).ok_or(AuthError::Missing)?;
        let token = raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).unwrap_or(raw).trim();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(data.claims.into_iter().map(|(k, v)| (k, claim_string(v))).collect())
    }
}

/// API Gateway's rendering of claim values: strings as they are, arrays as `[a b]`, the rest as JSON text.
fn claim_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Array(a) => format!("[{}]", a.into_iter().map(claim_string).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}

/// The stable `sub` (a UUID, as Cognito's are) of a local user name.
pub fn sub_for(username: &str) -> String {
    let h = Sha256::digest(format!("local-user:{username}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    // Version 8 (custom) UUID layout, so it reads as a UUID but never collides with random (v4) ones.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp(dir: &Path) -> LocalIdp {
        LocalIdp::open(dir, Authorizer { issuer: "https://issuer".into(), audience: vec!["client".into()] }).unwrap()
    }

    #[test]
    fn a_token_issued_here_verifies_with_cognito_shaped_claims() {
        let dir = tempfile::tempdir().unwrap();
        let t = idp(dir.path()).issue("alice", Some("alice@example.com"), time::Duration::hours(1));
        let claims = idp(dir.path()).verify(Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(claims["sub"], sub_for("alice"));
        assert_eq!(claims["cognito:username"], "alice");
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["email_verified"], "true");
        assert_eq!(claims["token_use"], "id");
    }

    #[test]
    fn expired_foreign_and_garbage_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let expired = idp(dir.path()).issue("alice", None, time::Duration::hours(-2));
        let foreign = idp(other.path()).issue("alice", None, time::Duration::hours(1));
        for bad in [Some(expired.as_str()), Some(foreign.as_str()), Some("Bearer abc.def.ghi"), Some(""), None] {
            assert!(idp(dir.path()).verify(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_same_user_name_always_has_the_same_sub() {
        assert_eq!(sub_for("bob"), sub_for("bob"));
        assert_ne!(sub_for("bob"), sub_for("alice"));
    }
}
