import { HISTORY_PAGE } from '../codecs.js';
import { stringRules } from '../field-rules.js';
import { ref, ruled, uuid, type Schema } from './schema-kit.js';

export type Auth = 'none' | 'jwt' | 'key-or-jwt';
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 429 | 503;

export const errorResponses: Readonly<Record<ErrorStatus | 413 | 415, { name: string; description: string }>> = {
  400: { name: 'BadRequest', description: 'Invalid input; details name each bad field' },
  401: { name: 'Unauthorized', description: 'Not authenticated, or a wrong code or password' },
  403: { name: 'Forbidden', description: 'Not allowed by the app policy' },
  404: { name: 'NotFound', description: 'Unknown, or owned by another tenant' },
  409: { name: 'Conflict', description: 'Conflicts with the current state, or (code CONFLICT) lost too many races with concurrent writes to the same resource: retry' },
  410: { name: 'Gone', description: 'Expired' },
  413: { name: 'PayloadTooLarge', description: "The body is larger than 64 KiB (an app's, under /api/app, 1024 KiB)" },
  415: { name: 'UnsupportedMediaType', description: 'The body is not application/json' },
  429: { name: 'TooManyRequests', description: 'Rate limited or attempts exhausted; see Retry-After' },
  503: { name: 'ServiceUnavailable', description: 'A dependency is down; retry later' },
};

export type Success = {
  readonly status: 200 | 201 | 202 | 204;
  readonly description: string;
  readonly schema?: Schema | string;
  /** Other media types of the same answer, e.g. image/png. */
  readonly alternatives?: Readonly<Record<string, Schema>>;
  /** Response headers besides X-Request-Id. */
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: Schema }>>;
};

export type Parameter = { readonly name: string; readonly in: 'path' | 'query'; readonly required: boolean; readonly schema: Schema; readonly description?: string };

export type OperationSpec = {
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: Auth;
  /** Name of the request body schema; bodies add 400, 413 and 415, authentication 401, all 503. */
  readonly body?: string;
  /** False when the body may be left out (its fields are optional, or also accepted elsewhere). */
  readonly bodyRequired?: boolean;
  readonly parameters?: readonly Parameter[];
  readonly success: Success;
  readonly errors: readonly ErrorStatus[];
};

/** `after` and `limit` of a history page. */
export const historyPageParameters: readonly Parameter[] = [
  {
    name: 'after',
    in: 'query',
    required: false,
    schema: ruled(stringRules.historyCursor),
    description:
      "Only events after this cursor: next_after of the previous page (or an entry's cursor). Opaque: only a cursor the service returned is accepted, " +
      'anything else (a number, an altered cursor) answers 400 naming after. Absent: from the first event',
  },
  { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: HISTORY_PAGE.max, default: HISTORY_PAGE.default } },
];

export const appIdQuery: Parameter = {
  name: 'app_id',
  in: 'query',
  required: false,
  schema: uuid,
  description: 'The app, when authenticating with an operator JWT; also accepted in the body, where both must agree',
};

const security: Record<Auth, readonly Record<string, readonly string[]>[]> = {
  none: [],
  jwt: [{ bearerAuth: [] }],
  'key-or-jwt': [{ apiKey: [] }, { bearerAuth: [] }],
};

const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };

const successResponse = (success: Success) => {
  const schema = typeof success.schema === 'string' ? ref(success.schema) : success.schema;
  const content = {
    ...(schema === undefined ? {} : { 'application/json': { schema } }),
    ...Object.fromEntries(Object.entries(success.alternatives ?? {}).map(([type, alt]) => [type, { schema: alt }])),
  };
  return {
    description: success.description,
    headers: { ...requestIdHeader, ...success.headers },
    ...(Object.keys(content).length === 0 ? {} : { content }),
  };
};

export const operation = (spec: OperationSpec) => {
  const statuses = new Set<number>([
    ...spec.errors,
    ...(spec.body === undefined ? [] : [400, 413, 415]),
    ...(spec.auth === 'none' ? [] : [401]),
    503,
  ]);
  // Every route an operator's JWT may call takes the app in the query string too.
  const named = spec.parameters ?? [];
  const parameters = spec.auth === 'key-or-jwt' && !named.some((p) => p.name === 'app_id') ? [...named, appIdQuery] : named;
  const errors = [...statuses].sort((a, b) => a - b).map((status) => {
    const response = errorResponses[status as ErrorStatus];
    return [String(status), { $ref: `#/components/responses/${response.name}` }];
  });
  return {
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    security: security[spec.auth],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(spec.body === undefined
      ? {}
      : { requestBody: { required: spec.bodyRequired ?? true, content: { 'application/json': { schema: ref(spec.body) } } } }),
    responses: { [String(spec.success.status)]: successResponse(spec.success), ...Object.fromEntries(errors) },
  };
};

/** An error answer: the shared Error body, X-Request-Id, and Retry-After where asked. */
export const errorResponse = (description: string, retryAfter = false) => ({
  description,
  headers: { ...requestIdHeader, ...(retryAfter ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } : {}) },
  content: { 'application/json': { schema: ref('Error') } },
});

export const componentResponses = Object.fromEntries(
  Object.entries(errorResponses).map(([status, { name, description }]) => [name, errorResponse(description, status === '429' || status === '503')]),
);
