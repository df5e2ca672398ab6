/**
 * The bounds of the argon2id cost of password hashes (ARGON2_MEMORY_KIB, ARGON2_TIME_COST), apart
 * from the hasher so that the configuration reads them without loading argon2's native binding
 * (the one-off commands hash nothing).
 */

// OWASP Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
export const MIN_MEMORY_COST_KIB = 19456;
export const MIN_TIME_COST = 2;
/**
 * The most ARGON2_MEMORY_KIB may ask for: 1 GiB. Every sign-in, password change and registration
 * holds that much for the length of one hash (unknown usernames too: they are checked against a
 * hash of the same cost), so a few concurrent sign-ins at 1 GiB already need several GiB; OWASP's
 * strongest listed setting is 46 MiB, RFC 9106's second recommendation 64 MiB. A larger value is
 * more likely a unit mistake (MiB or bytes for KiB) than a choice, and would exhaust the process.
 */
export const MAX_MEMORY_COST_KIB = 1_048_576;
/** The most ARGON2_TIME_COST may ask for: each pass costs about what the first does (a sign-in's latency grows with it). */
export const MAX_TIME_COST = 20;
