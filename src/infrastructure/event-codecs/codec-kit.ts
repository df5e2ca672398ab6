/**
 * Building blocks for the event data codecs, and the type-level checks that keep each codec
 * in step with its domain event type.
 */
import * as t from 'io-ts';
import type { DomainEvent } from '../../domain/shared/decider.js';
import { channels, otpMethods, totpAlgorithms } from '../../domain/shared/types.js';

/** Erases what decoding cannot observe: `readonly`, and intersections (flattened). */
type Normalize<T> = T extends readonly (infer I)[]
  ? Normalize<I>[]
  : T extends object
    ? { -readonly [K in keyof T]: Normalize<T[K]> }
    : T;

/**
 * The same type once normalized. Stricter than assignability both ways, which would let a
 * new optional domain field slip past a codec that does not know it (and then refuses it).
 */
export type Equals<A, B> =
  (<X>() => X extends Normalize<A> ? 1 : 2) extends <X>() => X extends Normalize<B> ? 1 : 2 ? true : false;

type DataOf<E extends DomainEvent, K extends E['type']> = Extract<E, { readonly type: K }>['data'];

/** Event type names whose codec is missing, left over, or disagrees with the domain type. */
export type CodecMismatch<E extends DomainEvent, C> = Extract<
  | {
      [K in E['type']]: K extends keyof C
        ? C[K] extends t.Any
          ? Equals<t.TypeOf<C[K]>, DataOf<E, K>> extends true
            ? never
            : K
          : K
        : K;
    }[E['type']]
  | Exclude<keyof C, E['type']>,
  string
>;

/** `true` when they match; otherwise the offending names, so the compiler error says which. */
export type CodecsMatch<E extends DomainEvent, C> =
  CodecMismatch<E, C> extends infer M ? ([M] extends [never] ? true : `codec does not match event type ${M & string}`) : never;

const refined = <A>(name: string, ok: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), t.identity);

/** Typed as plain `number` (not t.Int's brand) so it equals the domain's field types. */
export const integer = refined('integer', (u): u is number => Number.isInteger(u));

const ISO_8601 = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
/** Domain code parses instants with Date.parse; a string it cannot parse is corruption, not a time. */
export const instant = refined(
  'ISO-8601 instant',
  (u): u is string => typeof u === 'string' && ISO_8601.test(u) && !Number.isNaN(Date.parse(u)),
);

export const literals = <const L extends readonly (string | number)[]>(values: L): t.Type<L[number], L[number], unknown> =>
  refined(values.map((v) => JSON.stringify(v)).join(' | '), (u): u is L[number] => (values as readonly unknown[]).includes(u));

export const channel = literals(channels);
export const otpMethod = literals(otpMethods);
export const totpAlgorithm = literals(totpAlgorithms);

/** The message a field no codec lists fails with (a tolerant reader leaves such fields out). */
export const UNKNOWN_FIELD = 'unknown field';

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * An object with exactly these fields. Unknown fields are refused rather than carried along:
 * a bug that put a plaintext code or seed into an event must not reach the log. Reading the
 * log, `readEventData` leaves them out instead (a newer build wrote them).
 */
export const strictObject = <R extends t.Props, O extends t.Props = Record<never, never>>(
  name: string,
  required: R,
  optional: O = {} as O,
) => {
  // Validated side by side, not as a t.intersection, so member indices stay out of error paths.
  const known = t.type(required);
  const maybe = t.partial(optional);
  type A = t.TypeOf<typeof known> & t.TypeOf<typeof maybe>;
  const unknownKeys = (u: Record<string, unknown>): string[] =>
    Object.keys(u).filter((key) => !Object.hasOwn(required, key) && !Object.hasOwn(optional, key));
  const errorsOf = (result: t.Validation<unknown>): t.Errors => (result._tag === 'Left' ? result.left : []);
  return new t.Type<A, A, unknown>(
    name,
    (u): u is A => isRecord(u) && unknownKeys(u).length === 0 && known.is(u) && maybe.is(u),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [
        ...errorsOf(known.validate(u, c)),
        ...errorsOf(maybe.validate(u, c)),
        ...unknownKeys(u).map((key) => ({ value: undefined, context: t.appendContext(c, key, t.never), message: UNKNOWN_FIELD })),
      ];
      return errors.length > 0 ? t.failures(errors) : t.success(u as A);
    },
    t.identity,
  );
};

export const sealedSecret = strictObject('SealedSecret', { key_id: t.string, iv: t.string, ciphertext: t.string, tag: t.string });

/** Not a t.union: a bad non-null value then reports the inner field, not also "expected null". */
export class NullableType<A, O> extends t.Type<A | null, O | null, unknown> {
  constructor(readonly inner: t.Type<A, O, unknown>) {
    super(
      `${inner.name} | null`,
      (u): u is A | null => u === null || inner.is(u),
      (u, c) => (u === null ? t.success(null) : inner.validate(u, c)),
      (a) => (a === null ? null : inner.encode(a)),
    );
  }
}

export const nullable = <A, O>(codec: t.Type<A, O, unknown>): t.Type<A | null, O | null, unknown> => new NullableType(codec);
