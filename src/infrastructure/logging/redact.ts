/**
 * Defense in depth: the application never passes secrets to the logger, but if it ever
 * does, fields with these names are masked before anything is written.
 */
const sensitiveKeys = new Set([
  'password',
  'otp',
  'code',
  'secret',
  'seed',
  'api_key',
  'apikey',
  'x-api-key',
  'token',
  'access_token',
  'authorization',
  'recovery_codes',
  'destination',
  'to',
]);

export const redacted = '[REDACTED]';
/** Deeper values are dropped rather than printed unchecked. */
const maxDepth = 3;

export const isSensitiveKey = (key: string): boolean => sensitiveKeys.has(key.toLowerCase());

const redactValue = (value: unknown, depth: number, seen: WeakSet<object>): unknown => {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (value instanceof Date) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= maxDepth) return '[Truncated]';
  seen.add(value);
  // Error's name, message and stack are not enumerable: copy them explicitly.
  const source = value instanceof Error ? { ...value, type: value.name, message: value.message, stack: value.stack } : value;
  const out = Array.isArray(source)
    ? source.map((item) => redactValue(item, depth + 1, seen))
    : Object.fromEntries(
        Object.entries(source).map(([key, item]) => [key, isSensitiveKey(key) ? redacted : redactValue(item, depth + 1, seen)]),
      );
  seen.delete(value);
  return out;
};

/** A copy of `fields` with sensitive keys masked at every level up to `maxDepth`. */
export const redactFields = (fields: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  redactValue(fields, 0, new WeakSet()) as Record<string, unknown>;
