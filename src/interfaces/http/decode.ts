import type * as t from 'io-ts';
import { isRight } from 'fp-ts/lib/Either.js';
import { HttpError, type FieldError } from './errors.js';
import { maxFieldErrors } from './field-rules.js';

/** 400 VALIDATION_FAILED whose details name each bad field by its dotted path. */
export class ValidationFailed extends HttpError {
  constructor(details: readonly FieldError[]) {
    super('VALIDATION_FAILED', 'The request is not valid', { details });
  }
}

const rootMessage = 'must be a JSON object';

/**
 * Union and intersection members are validated against the same value as their parent under
 * an index key; those entries are not part of the field's path. Array items and object
 * properties always hold a different value than their container.
 */
const isCombinatorMember = (entry: t.ContextEntry, parent: t.ContextEntry): boolean =>
  /^[0-9]+$/.test(entry.key) && Object.is(entry.actual, parent.actual);

const toFieldError = (error: t.ValidationError): FieldError => {
  const kept = error.context.filter((entry, i) => i > 0 && !isCombinatorMember(entry, error.context[i - 1]!));
  const last = kept[kept.length - 1];
  const field = kept.length === 0 ? 'body' : kept.map((entry) => entry.key).join('.');
  const message =
    error.message ?? (last === undefined ? rootMessage : error.value === undefined ? 'is required' : last.type.name);
  return { field, message };
};

/** Field errors of a failed decode, one per field, at most `maxFieldErrors`. */
export const fieldErrors = (errors: t.Errors): readonly FieldError[] => {
  const byField = new Map<string, FieldError>();
  for (const error of errors) {
    const detail = toFieldError(error);
    if (!byField.has(detail.field)) byField.set(detail.field, detail);
    if (byField.size >= maxFieldErrors) break;
  }
  return [...byField.values()];
};

/** Decodes or throws ValidationFailed; the error handler turns it into a 400. */
export const decodeOrThrow = <A, O>(codec: t.Type<A, O, unknown>, value: unknown): A => {
  const result = codec.decode(value);
  if (isRight(result)) return result.right;
  throw new ValidationFailed(fieldErrors(result.left));
};
