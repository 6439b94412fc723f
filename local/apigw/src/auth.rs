//! The local identity provider and JWT authorizer.
//!
//! `local token <user>` issues a token shaped like a Cognito ID token (`sub`, `cognito:username`, `email`, `iss`,
//! `aud`, `token_use`, `auth_time`, `iat`, `exp`, `jti`), with the issuer and audience the template's authorizer
//! expects, signed (HS256) with a key kept in the data directory. The gateway then verifies tokens as API Gateway's
//! JWT authorizer does (its developer guide, "Control access to HTTP APIs with JWT authorizers"): signature, `iss`,
//! `aud`, `exp` after now, `nbf` and `iat` (when present) before now, each with [`CLOCK_SKEW_SECONDS`] of leeway;
//! the claims go into the event as strings.
//!
//! The token is read from `Authorization` as AWS documents it, "only the token, or the token prefixed with Bearer";
//! the scheme is matched as HTTP defines auth schemes (RFC 7235: case-insensitive) and may be followed by any run of
//! spaces or tabs. Leniency there costs nothing: whatever follows must still be a token signed with our key.
//!
//! A user's `sub` is derived from the user name, so the same name always maps to the same user (and tasks).

use crate::routes::Authorizer;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use local_core::files;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::{collections::HashMap, path::Path};

/// The leeway on `exp`, `nbf` and `iat`, for clocks that disagree a little. AWS documents none ("must be after /
/// before the current time in UTC"); a minute is jsonwebtoken's default, which `exp` has always had here.
pub const CLOCK_SKEW_SECONDS: u64 = 60;

/// The shortest token-signing key accepted: HS256's own output size. A shorter key (an empty file, a truncated
/// one) lets anyone who guesses it sign tokens for any user.
pub const MIN_KEY_BYTES: usize = 32;

/// A token-signing key file too short to keep tokens unforgeable.
#[derive(Debug, thiserror::Error)]
#[error(
    "the token-signing key {} is {len} bytes, fewer than the {MIN_KEY_BYTES} needed to keep tokens unforgeable; \
     delete it and a new one is generated at the next start (tokens issued before then stop working)",
    path.display()
)]
pub struct WeakSigningKey {
    pub path: std::path::PathBuf,
    pub len: usize,
}

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
    /// Opens (creating on first use) the signing key under `data_dir`. A key file shorter than [`MIN_KEY_BYTES`] is
    /// refused (an `InvalidData` error whose inner error is a [`WeakSigningKey`]), never used.
    pub fn open(data_dir: &Path, authorizer: Authorizer) -> std::io::Result<Self> {
        let path = data_dir.join("keys").join("token-signing.key");
        let key = files::load_or_create_secret(&path, MIN_KEY_BYTES)?;
        if key.len() < MIN_KEY_BYTES {
            let weak = WeakSigningKey { path, len: key.len() };
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, weak));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&authorizer.issuer]);
        validation.set_audience(&authorizer.audience);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = CLOCK_SKEW_SECONDS;
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
        let data = jsonwebtoken::decode::<Map<String, Value>>(bearer_token(raw), &self.decoding, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        issued_in_the_past(&data.claims)?;
        Ok(data.claims.into_iter().map(|(k, v)| (k, claim_string(v))).collect())
    }
}

/// The token of an `Authorization` value: after a `Bearer` scheme in any case and the spaces or tabs that follow
/// it, else the whole value.
fn bearer_token(raw: &str) -> &str {
    match raw.split_once([' ', '\t']) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim_start_matches([' ', '\t']),
        _ => raw,
    }
}

/// API Gateway's `iat` rule, which jsonwebtoken does not check: when present, a number not after now (give or
/// take the skew). A token "issued" in the future was not issued by a well-behaved identity provider.
fn issued_in_the_past(claims: &Map<String, Value>) -> Result<(), AuthError> {
    let Some(iat) = claims.get("iat") else { return Ok(()) };
    let iat = iat.as_f64().ok_or_else(|| AuthError::Invalid("`iat` is not a number".into()))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    if iat > now + CLOCK_SKEW_SECONDS as f64 {
        return Err(AuthError::Invalid("`iat` is in the future".into()));
    }
    Ok(())
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

    /// A token signed with `dir`'s key, with valid claims and `extra` over them (a `null` removes the claim).
    fn signed(dir: &Path, extra: Value) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = json!({"sub": sub_for("alice"), "iss": "https://issuer", "aud": "client",
            "iat": now, "exp": now + 3600});
        for (k, v) in extra.as_object().unwrap() {
            match v {
                Value::Null => drop(claims.as_object_mut().unwrap().remove(k)),
                v => claims[k] = v.clone(),
            }
        }
        let key = std::fs::read(dir.join("keys").join("token-signing.key")).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&key)).unwrap()
    }

    #[test]
    fn a_token_not_yet_valid_or_issued_in_the_future_is_refused_beyond_the_skew() {
        let dir = tempfile::tempdir().unwrap();
        let idp = idp(dir.path());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let later = now + CLOCK_SKEW_SECONDS as i64 + 600;
        for claims in [json!({"nbf": later}), json!({"iat": later}), json!({"iat": "yesterday"})] {
            let t = signed(dir.path(), claims.clone());
            assert!(matches!(idp.verify(Some(&t)), Err(AuthError::Invalid(_))), "{claims}");
        }
        let within_skew = now + CLOCK_SKEW_SECONDS as i64 / 2;
        for claims in [json!({"nbf": now - 10}), json!({"nbf": within_skew, "iat": within_skew}), json!({"iat": null})]
        {
            let t = signed(dir.path(), claims.clone());
            assert!(idp.verify(Some(&t)).is_ok(), "{claims}");
        }
    }

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case_and_followed_by_spaces_or_tabs() {
        let dir = tempfile::tempdir().unwrap();
        let idp = idp(dir.path());
        let t = idp.issue("alice", None, time::Duration::hours(1));
        for value in [
            t.clone(),
            format!("Bearer {t}"),
            format!("bearer {t}"),
            format!("BEARER {t}"),
            format!("Bearer\t{t}"),
            format!("bEaReR \t  {t}"),
        ] {
            assert!(idp.verify(Some(&value)).is_ok(), "{value:?}");
        }
        for value in [format!("Basic {t}"), format!("Bearer{t}"), format!("Bearer {t} extra"), "Bearer".into()] {
            assert!(idp.verify(Some(&value)).is_err(), "{value:?}");
        }
    }

    #[test]
    fn a_signing_key_shorter_than_32_bytes_is_refused_naming_the_file() {
        for len in [0, 31] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("keys").join("token-signing.key");
            files::create_private_dir(path.parent().unwrap()).unwrap();
            files::write_atomic(&path, &vec![7u8; len]).unwrap();
            let auth = Authorizer { issuer: "https://issuer".into(), audience: vec!["client".into()] };
            let Err(e) = LocalIdp::open(dir.path(), auth) else { panic!("a {len}-byte key was accepted") };
            let weak = e.get_ref().and_then(|e| e.downcast_ref::<WeakSigningKey>()).expect("a WeakSigningKey");
            assert_eq!((weak.path.as_path(), weak.len), (path.as_path(), len));
            let message = e.to_string();
            assert!(message.contains(&path.display().to_string()) && message.contains("delete it"), "{message}");
        }
        let dir = tempfile::tempdir().unwrap();
        idp(dir.path()); // creates a 32-byte key
        assert_eq!(std::fs::read(dir.path().join("keys").join("token-signing.key")).unwrap().len(), MIN_KEY_BYTES);
        idp(dir.path()); // and accepts it
    }

    #[test]
    fn the_same_user_name_always_has_the_same_sub() {
        assert_eq!(sub_for("bob"), sub_for("bob"));
        assert_ne!(sub_for("bob"), sub_for("alice"));
    }
}
