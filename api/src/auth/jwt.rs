//! Short-lived access tokens: HS256 JWTs with one pinned algorithm and required `exp`, `iat`, `iss`,
//! `aud`, `sub`. The key comes from configuration or is generated once and kept in the data folder.

use std::path::Path;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const ISSUER: &str = "tungnha";
pub const AUDIENCE: &str = "tungnha-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The refresh-token family (login session) this access token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: i64,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8], ttl_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    /// Issues an access token for `user_id`; returns it with its lifetime in seconds.
    pub fn issue(&self, user_id: &str, session_id: Option<&str>) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            iat: now,
            exp: now + self.ttl_secs,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sid: session_id.map(str::to_owned),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Verifies signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let (code, detail) = match e.kind() {
                    ErrorKind::ExpiredSignature => {
                        ("token_expired", "The access token has expired.")
                    }
                    _ => ("invalid_token", "The access token is not valid."),
                };
                ApiError::Unauthorized {
                    code,
                    detail: detail.into(),
                }
            })
    }
}

/// The signing secret: the configured one, else the one stored in `data_dir/jwt-secret`, else a new
/// random one written there (mode 0600) so restarts keep sessions valid.
pub fn load_or_create_secret(
    configured: Option<&SecretString>,
    data_dir: &Path,
) -> anyhow::Result<SecretString> {
    if let Some(s) = configured {
        return Ok(s.clone());
    }
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 43 {
            return Ok(SecretString::from(existing.to_owned()));
        }
        anyhow::bail!(
            "{} is too short to be a signing secret; delete it to regenerate",
            path.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = super::random_token(48);
    write_private(&path, secret.as_bytes())?;
    Ok(SecretString::from(secret))
}

/// Writes a new file only its owner may read (mode 0600), durably; an existing file is an error.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

/// Exposes the secret bytes for key construction.
pub fn secret_bytes(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> JwtKeys {
        JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef0123456789ab", 900)
    }

    #[test]
    fn an_issued_token_verifies() {
        let k = keys();
        let t = k.issue("user-1", Some("fam")).expect("issue");
        let c = k.verify(&t).expect("valid");
        assert_eq!(c.sub, "user-1");
        assert_eq!(c.sid.as_deref(), Some("fam"));
        assert_eq!(c.exp - c.iat, 900);
    }

    #[test]
    fn tokens_signed_with_another_key_or_none_are_refused() {
        let other = JwtKeys::from_secret(b"another-secret-another-secret-another-secret", 900);
        let t = other.issue("user-1", None).expect("issue");
        assert_eq!(
            keys().verify(&t).expect_err("other key").code(),
            "invalid_token"
        );

        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = chrono::Utc::now().timestamp();
        let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64.encode(format!(
            r#"{{"sub":"user-1","iat":{now},"exp":{},"iss":"tungnha","aud":"tungnha-api"}}"#,
            now + 900
        ));
        let unsigned = format!("{header}.{payload}.");
        assert_eq!(
            keys().verify(&unsigned).expect_err("alg none").code(),
            "invalid_token"
        );
    }

    #[test]
    fn expired_and_wrong_audience_tokens_are_refused() {
        let expired = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef0123456789ab", -120);
        let t = expired.issue("user-1", None).expect("issue");
        assert_eq!(
            keys().verify(&t).expect_err("expired").code(),
            "token_expired"
        );

        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "user-1".into(),
            iat: now,
            exp: now + 900,
            iss: ISSUER.into(),
            aud: "someone-else".into(),
            sid: None,
        };
        let t = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef0123456789ab"),
        )
        .expect("encode");
        assert_eq!(
            keys().verify(&t).expect_err("audience").code(),
            "invalid_token"
        );
    }
}
