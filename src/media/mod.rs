//! Files captured on site: photos checked by their content, stripped of metadata but
//! their time and position, with a thumbnail; and the object store that keeps them.

pub mod objects;
pub mod photo;

static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();

/// The default of [`processing_slots`]: one core left for everything else, at least one.
pub fn default_processing_slots() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    cores.saturating_sub(1).max(1)
}

/// Sets how many photos are processed at once (`--photo-slots`); before the first upload,
/// else the first setting stays.
pub fn set_processing_slots(n: usize) {
    let _ = SLOTS.set(tokio::sync::Semaphore::new(n.max(1)));
}

/// How many photos are processed at once (decoding and the thumbnail are CPU work).
/// Uploads beyond it wait their turn, so a burst of uploads cannot starve the order
/// actions of the same instance.
pub fn processing_slots() -> &'static tokio::sync::Semaphore {
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(default_processing_slots()))
}
