//! The wait of background tasks that run a pass, wait and run again until the process shuts down
//! (the plans target's deadline watcher, measure counts refresher and reach warmer; the events
//! consumer's back-off and lag monitor): one way to wait, so that every task stops as soon as
//! shutdown begins, not at the end of its wait.

use std::time::Duration;

use tokio::sync::watch;

/// Sleeps `wait` unless shutdown comes first; returns whether to stop (shutdown has begun, or
/// nobody can signal it any more).
pub async fn pause(wait: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait) => *shutdown.borrow(),
        changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_ends_when_shutdown_begins() {
        let (tx, mut rx) = watch::channel(false);
        assert!(!pause(Duration::from_millis(1), &mut rx).await, "no shutdown: go on");
        let waiting = tokio::spawn(async move { pause(Duration::from_secs(3600), &mut rx).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(true).expect("send");
        let stop = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the hour's wait ends at shutdown")
            .expect("task");
        assert!(stop);
    }

    #[tokio::test]
    async fn a_wait_ends_when_nobody_can_signal_shutdown() {
        let (tx, mut rx) = watch::channel(false);
        drop(tx);
        let stop = tokio::time::timeout(Duration::from_secs(5), pause(Duration::from_secs(3600), &mut rx))
            .await
            .expect("ends at once");
        assert!(stop);
    }
}
