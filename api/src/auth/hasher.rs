//! Password hashing off the request path, on a few dedicated threads.
//!
//! argon2 needs 19 MiB per hash. Run on actix's blocking pool, a login burst spreads hashes over
//! dozens of threads, and glibc keeps a malloc arena with a freed 19 MiB block per thread: the
//! process grew past 1 GB in the login benchmark. A fixed pool of a few threads bounds that memory
//! to a few blocks, and a bounded queue turns a burst beyond it into `503` with `Retry-After`
//! rather than an ever longer wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::ApiError;

pub struct Hasher {
    pool: rayon::ThreadPool,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
}

impl Hasher {
    pub fn new(threads: usize, max_queued: usize) -> anyhow::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("tungnha-hash-{i}"))
            .build()?;
        Ok(Hasher {
            pool,
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued,
        })
    }

    /// Runs `job` on the hashing threads and waits for it without blocking an async worker.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::TooManyRequests {
                detail: "The server is busy checking passwords; try again in a moment.".into(),
                retry_after_secs: 2,
            });
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let queued = Arc::clone(&self.queued);
        self.pool.spawn(move || {
            let out = job();
            queued.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(out);
        });
        rx.await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the hashing thread ended")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_and_a_full_queue_is_refused() {
        let hasher = Arc::new(Hasher::new(1, 2).expect("pool"));
        assert_eq!(hasher.run(|| 40 + 2).await.expect("ran"), 42);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let h = Arc::clone(&hasher);
        let blocked = tokio::spawn(async move { h.run(move || wait.recv().is_ok()).await });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let h = Arc::clone(&hasher);
        let queued = tokio::spawn(async move { h.run(|| 1).await });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // One job runs, one waits: the queue of two is full.
        let refused = hasher.run(|| 2).await;
        assert!(matches!(refused, Err(ApiError::TooManyRequests { .. })));
        release.send(()).expect("release");
        assert!(blocked.await.expect("join").expect("ran"));
        assert_eq!(queued.await.expect("join").expect("ran"), 1);
        assert_eq!(hasher.run(|| 3).await.expect("room again"), 3);
    }
}
