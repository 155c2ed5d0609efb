//! Password hashing with argon2id at the crate defaults (m = 19 MiB, t = 2, p = 1: the OWASP minimum).

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;

/// Hashes a new password with a fresh random salt into a PHC string.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// Checks `candidate` against a stored PHC string. A malformed stored hash never verifies.
pub fn verify(candidate: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// True when `stored` was hashed with other parameters than today's defaults, so it should be
/// re-hashed at the next successful login.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(current) = argon2::Params::try_from(&parsed) else {
        return true;
    };
    let defaults = argon2::Params::default();
    parsed.algorithm.as_str() != "argon2id"
        || current.m_cost() != defaults.m_cost()
        || current.t_cost() != defaults.t_cost()
        || current.p_cost() != defaults.p_cost()
}

/// A hash of a random password, verified against when the username is unknown so that the answer takes
/// as long as for a known user with a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Password::parse(&crate::auth::random_token(24), "password")
            .ok()
            .and_then(|p| hash(&p).ok())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let p = Password::parse("mật khẩu đủ dài", "password").expect("valid");
        let h = hash(&p).expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("mật khẩu đủ dài", &h));
        assert!(!verify("mat khau du dai", &h));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn hashes_made_by_the_library_verify_and_ours_verify_with_the_library() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"mat khau cua thu vien")
            .expect("hash")
            .to_string();
        assert!(verify("mat khau cua thu vien", &theirs));
        assert!(!verify("mat khau khac", &theirs));
        let ours =
            hash(&Password::parse("mật khẩu của chúng tôi", "p").expect("valid")).expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password("mật khẩu của chúng tôi".as_bytes(), &parsed)
            .is_ok());
        assert_ne!(
            ours,
            hash(&Password::parse("mật khẩu của chúng tôi", "p").expect("valid")).expect("hash"),
            "fresh salt each time"
        );
    }

    #[test]
    fn weaker_parameters_ask_for_a_rehash() {
        use argon2::PasswordHasher;
        let weak = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8, 1, 1, None).expect("params"),
        )
        .hash_password(b"whatever-password")
        .expect("hash")
        .to_string();
        assert!(verify("whatever-password", &weak));
        assert!(needs_rehash(&weak));
        assert!(needs_rehash("not a phc string"));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify("", dummy_hash()));
    }
}
