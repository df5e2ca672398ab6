/**
 * io-ts building blocks whose `name` is the human message a client sees when a value breaks
 * them; decode.ts reads that name back, so messages never echo the offending value.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { characterCount } from '../../domain/shared/text.js';
import type { StringRule } from './field-rules.js';

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * Half of a surrogate pair on its own: JSON can carry one (`"\ud800"`), but it is no character,
 * and text holding one cannot be URI-encoded (an otpauth:// URI threw URIError, a 500) or
 * written out as UTF-8 unchanged.
 */
const LONE_SURROGATE = /\p{Cs}/u;

const inRange = (n: number, minimum: number, maximum: number): boolean => n >= minimum && n <= maximum;

const ruledBy = (rule: StringRule, lengthOf: (text: string) => number): t.Type<string, string, unknown> => {
  const regex = rule.pattern === undefined ? undefined : new RegExp(rule.pattern, 'u');
  // Length first (in UTF-16 units, at most two a character, then as `lengthOf` counts it): the
  // regexes never see a 100k-character string.
  const ok = (u: unknown): u is string =>
    typeof u === 'string' &&
    u.length >= rule.minLength &&
    u.length <= 2 * rule.maxLength &&
    !LONE_SURROGATE.test(u) &&
    inRange(lengthOf(u), rule.minLength, rule.maxLength) &&
    (regex?.test(u) ?? true);
  return new t.Type(rule.message, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

/** `rule` with its lengths in characters, as the message and the OpenAPI document say. */
export const ruledString = (rule: StringRule): t.Type<string, string, unknown> => ruledBy(rule, characterCount);

/**
 * `rule` with its lengths in UTF-16 units, as ruledString counted them before stop 36: for
 * values that must still pass what they passed then (a password registered with it).
 */
export const ruledStringInUnits = (rule: StringRule): t.Type<string, string, unknown> => ruledBy(rule, (text) => text.length);

/**
 * A string of `codec`, handed on without the white space around it: for a name shown to people
 * (an app's name, in every message), where spaces a form or a paste left around it would go out
 * as typed. The value as sent is what `codec` checks, so what is taken is exactly what the
 * OpenAPI document's rule for the field allows.
 */
export const trimmed = (codec: t.Type<string, string, unknown>): t.Type<string, string, unknown> =>
  new t.Type(
    codec.name,
    (u): u is string => codec.is(u) && u === u.trim(),
    (u, c) => (codec.is(u) ? t.success(u.trim()) : codec.validate(u, c)),
    t.identity,
  );

/**
 * A string of `codec` in lower case: for values the API compares without regard to case (a
 * UUID, RFC 9562), so everything past the HTTP edge sees one spelling of each id and compares
 * it exactly (streams, ownership, the app a key belongs to).
 */
export const lowerCased = (codec: t.Type<string, string, unknown>): t.Type<string, string, unknown> =>
  new t.Type(
    codec.name,
    (u): u is string => codec.is(u) && u === u.toLowerCase(),
    (u, c) => (codec.is(u) ? t.success(u.toLowerCase()) : t.failure(u, c)),
    t.identity,
  );

/** Any of `rules` (same type, one message): cheaper and clearer than a t.union. */
export const eitherString = (message: string, ...codecs: t.Type<string, string, unknown>[]): t.Type<string, string, unknown> => {
  const ok = (u: unknown): u is string => codecs.some((codec) => codec.is(u));
  return new t.Type(message, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

export const enumOf = <T extends string>(values: readonly T[]): t.Type<T, T, unknown> => {
  const ok = (u: unknown): u is T => typeof u === 'string' && (values as readonly string[]).includes(u);
  return new t.Type(`must be one of ${values.join(', ')}`, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

export const numberEnum = <T extends number>(values: readonly T[]): t.Type<T, T, unknown> => {
  const ok = (u: unknown): u is T => typeof u === 'number' && (values as readonly number[]).includes(u);
  const last = values[values.length - 1];
  const message = `must be ${values.slice(0, -1).join(', ')} or ${String(last)}`;
  return new t.Type(message, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

export const integerIn = (minimum: number, maximum: number): t.Type<number, number, unknown> => {
  const ok = (u: unknown): u is number => Number.isInteger(u) && (u as number) >= minimum && (u as number) <= maximum;
  return new t.Type(`must be an integer from ${minimum} to ${maximum}`, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);
};

/** A query-string integer: decimal digits only (no sign, exponent or spaces), within bounds. */
export const queryInteger = (minimum: number, maximum: number): t.Type<number, string, unknown> => {
  const message = `must be an integer from ${minimum} to ${maximum}`;
  const parse = (u: unknown): number | undefined => (typeof u === 'string' && /^\d{1,16}$/.test(u) && Number(u) >= minimum && Number(u) <= maximum ? Number(u) : undefined);
  return new t.Type(message, (u): u is number => Number.isInteger(u) && (u as number) >= minimum && (u as number) <= maximum, (u, c) => {
    const n = parse(u);
    return n === undefined ? t.failure(u, c) : t.success(n);
  }, String);
};

export const boolean = new t.Type<boolean, boolean, unknown>(
  'must be true or false',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => (typeof u === 'boolean' ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const listOf = <C extends t.Mixed>(item: C, maxItems: number, message: string): t.Type<t.TypeOf<C>[], t.OutputOf<C>[], unknown> => {
  const array = t.array(item, message);
  return new t.Type(
    message,
    (u): u is t.TypeOf<C>[] => array.is(u) && u.length <= maxItems,
    (u, c) => (Array.isArray(u) && u.length > maxItems ? t.failure(u, c) : array.validate(u, c)),
    array.encode,
  );
};

export const nullable = <A, O>(codec: t.Type<A, O, unknown>, message: string): t.Type<A | null, O | null, unknown> =>
  new t.Type<A | null, O | null, unknown>(
    message,
    (u): u is A | null => u === null || codec.is(u),
    (u, c) => (u === null ? t.success(null) : codec.validate(u, c)),
    (a) => (a === null ? null : codec.encode(a)),
  );

/** A partial object that rejects keys it does not know, naming each one. */
export const strictPartial = <P extends t.Props>(props: P, message: string) => {
  const partial = t.partial(props);
  type A = t.TypeOf<typeof partial>;
  const unknownKeys = (u: Record<string, unknown>) => Object.keys(u).filter((key) => !Object.hasOwn(props, key));
  return new t.Type<A, t.OutputOf<typeof partial>, unknown>(
    message,
    (u): u is A => isPlainObject(u) && unknownKeys(u).length === 0 && partial.is(u),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c);
      const result = partial.validate(u, c);
      const extra: t.ValidationError[] = unknownKeys(u).map((key) => ({
        value: u[key],
        context: [...c, { key, type: t.unknown, actual: u[key] }],
        message: 'is not a known field',
      }));
      if (extra.length === 0) return result;
      return t.failures([...extra, ...(isLeft(result) ? result.left : [])]);
    },
    partial.encode,
  );
};

/** An object used as a map (string keys, values of one codec), with at most `maxKeys` keys. */
export const recordOf = <C extends t.Mixed>(value: C, maxKeys: number, message: string): t.Type<Record<string, t.TypeOf<C>>, Record<string, t.OutputOf<C>>, unknown> => {
  const record = t.record(t.string, value);
  return new t.Type(
    message,
    (u): u is Record<string, t.TypeOf<C>> => isPlainObject(u) && Object.keys(u).length <= maxKeys && record.is(u),
    (u, c) => (isPlainObject(u) && Object.keys(u).length <= maxKeys ? record.validate(u, c) : t.failure(u, c)),
    record.encode,
  );
};

/** An object with required and optional fields; unknown keys are dropped, not rejected. */
export const body = <R extends t.Props, O extends t.Props>(required: R, optional: O) =>
  t.exact(t.intersection([t.type(required), t.partial(optional)]), 'must be a JSON object');

/** At least one of `keys` must be present; the error names the first. */
export const requireOneOf = <C extends t.Mixed>(codec: C, keys: readonly [string, ...string[]]): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> => {
  const missing = (u: unknown) => isPlainObject(u) && keys.every((key) => u[key] === undefined);
  const message = `either ${keys.join(' or ')} is required`;
  return new t.Type(
    codec.name,
    (u): u is t.TypeOf<C> => codec.is(u) && !missing(u),
    (u, c) => {
      const result = codec.validate(u, c);
      if (!missing(u)) return result;
      const error: t.ValidationError = { value: undefined, context: [...c, { key: keys[0], type: t.unknown, actual: undefined }], message };
      return t.failures([...(isLeft(result) ? result.left : []), error]);
    },
    codec.encode,
  );
};
