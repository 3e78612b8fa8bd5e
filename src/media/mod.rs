//! Files captured on site: photos checked by their content, stripped of metadata but
//! their time and position, with a thumbnail; and the object store that keeps them.

pub mod objects;
pub mod photo;

/// How many photos are processed at once (decoding and the thumbnail are CPU work): one
/// core left for everything else, at least one (`DISPATCH_PHOTO_SLOTS` overrides it).
/// Uploads beyond it wait their turn, so a burst of uploads cannot starve the order actions
/// of the same instance.
pub fn processing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let n = std::env::var("DISPATCH_PHOTO_SLOTS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| (1..=1024).contains(n))
            .unwrap_or_else(|| cores.saturating_sub(1).max(1));
        tokio::sync::Semaphore::new(n)
    });
    &SLOTS
}
