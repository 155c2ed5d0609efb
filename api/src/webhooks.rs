//! The webhook worker: posts queued deliveries (db/webhooks.rs) to their subscribers, signed, and
//! retries failures with exponential backoff until the last try makes them `dead`.
//!
//! Every instance runs one; a delivery is claimed with a lease in the database before it is sent, so
//! two instances never send the same attempt, and a crashed instance's lease simply expires.
//!
//! Each POST carries `Content-Type: application/json`, `X-TungNha-Event`, `X-TungNha-Delivery` (the
//! delivery id, for the receiver to drop repeats) and `X-TungNha-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>" with the webhook's secret>`. Receivers check the HMAC and refuse a
//! timestamp more than five minutes old.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{self, webhooks as store, DbPool};

pub mod target;

/// How the worker paces itself and where it may post (settings `webhook_*`).
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    pub poll: Duration,
    /// The wait after the first failure; each further failure doubles it (at most six hours).
    pub retry_base: Duration,
    /// Tries before a delivery becomes `dead`.
    pub max_attempts: u32,
    /// How often communes are checked against indicator targets (`indicator.threshold_crossed`).
    pub indicator_watch: Duration,
    /// The targets it may connect to (`target.rs`).
    pub targets: target::TargetPolicy,
}

/// `v1` of the signature header: hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// When to try again after `attempts` failed tries, or `None` when that was the last.
pub fn retry_delay(s: &WorkerSettings, attempts: u32) -> Option<Duration> {
    if attempts >= s.max_attempts {
        return None;
    }
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    Some(
        s.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(6 * 3600)),
    )
}

/// Runs forever on the server's runtime.
pub async fn run(pool: DbPool, settings: WorkerSettings) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        // Every name is resolved through the target policy, and no proxy of the environment
        // resolves it instead.
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(target::GuardedResolver(
            settings.targets.clone(),
        )))
        .user_agent("TungNha-Webhooks/1")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; deliveries wait");
            return;
        }
    };
    let mut watched: Option<std::time::Instant> = None;
    loop {
        if watched.is_none_or(|at| at.elapsed() >= settings.indicator_watch) {
            watched = Some(std::time::Instant::now());
            let today = crate::stats::period::local_today();
            match blocking(&pool, move |conn| {
                Ok(crate::stats::watch::check(conn, today)?)
            })
            .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(crossings = n, "webhooks: indicator targets crossed"),
                Err(e) => tracing::warn!(error = %e, "webhooks: the indicator check failed"),
            }
        }
        match run_once(&pool, &client, &settings).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhooks: a round failed"),
        }
        tokio::time::sleep(settings.poll).await;
    }
}

type Claimed = (store::Delivery, Option<store::Webhook>);

async fn blocking<T: Send + 'static>(
    pool: &DbPool,
    f: impl FnOnce(&mut db::DbConnection) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Sends what is due now; returns how many attempts were made.
pub async fn run_once(
    pool: &DbPool,
    client: &reqwest::Client,
    settings: &WorkerSettings,
) -> anyhow::Result<usize> {
    let claimed: Vec<Claimed> = blocking(pool, |conn| {
        let now = db::now();
        let lease = now + chrono::TimeDelta::seconds(60);
        let mut out = vec![];
        for d in store::due(conn, now, 20)? {
            if store::claim(conn, &d.id, now, lease)? {
                let hook = store::find(conn, &d.webhook_id)?;
                out.push((d, hook));
            }
        }
        Ok(out)
    })
    .await?;
    let n = claimed.len();
    for (delivery, hook) in claimed {
        let (delivered, status, error) = match &hook {
            None => (false, None, Some("the webhook was deleted".to_owned())),
            Some(h) => send(client, &settings.targets, h, &delivery).await,
        };
        let attempts = delivery.attempts as u32 + 1;
        let retry = if delivered || hook.is_none() {
            None
        } else {
            retry_delay(settings, attempts)
        };
        blocking(pool, move |conn| {
            let at = db::now();
            let retry_at = retry.and_then(|d| chrono::TimeDelta::from_std(d).ok().map(|d| at + d));
            store::finish_attempt(
                conn,
                &store::Attempt {
                    id: &delivery.id,
                    delivered,
                    status,
                    error: error.as_deref(),
                    retry_at,
                    at,
                },
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(n)
}

async fn send(
    client: &reqwest::Client,
    targets: &target::TargetPolicy,
    hook: &store::Webhook,
    d: &store::Delivery,
) -> (bool, Option<i32>, Option<String>) {
    // An address written in the URL never reaches the resolver: it is checked here (a hook stored
    // before the policy, or under a looser one, is refused now).
    if let Err(r) = targets.check_form(&hook.url) {
        return (false, None, Some(format!("refused: {}", r.message())));
    }
    let t = chrono::Utc::now().timestamp();
    let body = d.payload.clone().into_bytes();
    let sig = signature(&hook.secret, t, &body);
    let res = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-tungnha-event", &d.event)
        .header("x-tungnha-delivery", &d.id)
        .header("x-tungnha-signature", format!("t={t},v1={sig}"))
        .body(body)
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => (true, Some(i32::from(r.status().as_u16())), None),
        Ok(r) => (
            false,
            Some(i32::from(r.status().as_u16())),
            Some(format!("the receiver answered {}", r.status())),
        ),
        Err(e) => (false, None, Some(format!("not delivered: {}", causes(&e)))),
    }
}

/// An error with its causes (reqwest's own message leaves out why a connection failed).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 style check against an independent computation of the same construction.
        let sig = signature("key", 1700000000, b"{}");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"key").expect("key");
        mac.update(b"1700000000.{}");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig, expected);
        assert_eq!(sig.len(), 64);
        assert_ne!(signature("other", 1700000000, b"{}"), sig);
        assert_ne!(signature("key", 1700000001, b"{}"), sig);
    }

    #[test]
    fn retries_back_off_exponentially_until_the_last_try() {
        let s = WorkerSettings {
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(30),
            max_attempts: 5,
            indicator_watch: Duration::from_secs(300),
            targets: target::TargetPolicy::default(),
        };
        assert_eq!(retry_delay(&s, 1), Some(Duration::from_secs(30)));
        assert_eq!(retry_delay(&s, 2), Some(Duration::from_secs(60)));
        assert_eq!(retry_delay(&s, 4), Some(Duration::from_secs(240)));
        assert_eq!(retry_delay(&s, 5), None);
        let long = WorkerSettings {
            max_attempts: 40,
            ..s.clone()
        };
        assert_eq!(retry_delay(&long, 30), Some(Duration::from_secs(6 * 3600)));
    }
}
