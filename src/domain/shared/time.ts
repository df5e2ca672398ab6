/** Timestamps travel through commands and events as ISO-8601 strings (UTC). */
export type Instant = string;

/** A day, for windows counted in seconds (rate limits, the cap on failures a day). */
export const DAY_SECONDS = 86_400;

export const toMillis = (at: Instant): number => Date.parse(at);

export const fromMillis = (millis: number): Instant => new Date(millis).toISOString();

export const addSeconds = (at: Instant, seconds: number): Instant =>
  new Date(toMillis(at) + seconds * 1000).toISOString();

/** Whole seconds from `from` until `to`, at least 1 (used for Retry-After). */
export const secondsUntil = (from: Instant, to: Instant): number =>
  Math.max(1, Math.ceil((toMillis(to) - toMillis(from)) / 1000));
