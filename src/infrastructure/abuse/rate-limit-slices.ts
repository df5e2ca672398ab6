/**
 * How both rate limiters (in process, Redis) count a large limit. Up to EXACT_LIMIT, a key
 * keeps a log of its allowed hits: exact, and at most that many entries. Above it, a key
 * counts its hits in SLICES slices of the window (a slice's index is the time divided by the
 * slice's width) and counts the last SLICES + 1 of them, the current one included: a hit counts
 * until its slice has wholly left the window, so for up to one slice (1% of the window) longer
 * than the window, never shorter, and a key holds at most SLICES + 1 counts. When a key is
 * asked for with the other kind of limit (a limit changed across EXACT_LIMIT), its count is
 * carried over: a log is counted into slices, and slices become a log of their newest `limit`
 * hits, each stamped at its slice's last instant.
 */
export const EXACT_LIMIT = 1000;
export const SLICES = 100;

/** A slice's width, in the window's own unit (ms in process, µs in Redis). */
export const sliceWidth = (window: number): number => Math.max(1, Math.ceil(window / SLICES));
