// Live updates from GET /api/v1/events (stub: filled in by its own change)

/** Opens the event stream for the signed-in user. */
export function start(user, hooks) { void user; void hooks; }
