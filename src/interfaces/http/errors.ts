import type { Rejection } from '../../domain/shared/rejection.js';
import { rejectionCodes } from '../../domain/shared/rejection.js';
import { statusOf, type ErrorCode } from './error-table.js';

export type FieldError = { readonly field: string; readonly message: string };

export type Problem = {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: readonly FieldError[];
  readonly retryAfterSeconds?: number;
  readonly attemptsRemaining?: number;
  readonly challengeId?: string;
  readonly challengeStatus?: string;
  readonly reason?: string;
  /** Extra response headers, e.g. `Allow` on a 405. */
  readonly headers?: Readonly<Record<string, string>>;
};

export type ErrorBody = {
  readonly error: true;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: readonly FieldError[];
  readonly request_id: string;
  readonly attempts_remaining?: number;
  readonly challenge_id?: string;
  readonly status?: string;
  readonly reason?: string;
};

/** What the error helpers need from a Koa context; any Koa or router context fits. */
export type ResponseTarget = {
  status: number;
  body: unknown;
  set(field: string, value: string): void;
  readonly state: Record<string, unknown>;
};

/** An error that only exists at the HTTP edge; thrown anywhere, answered by the error handler. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Omit<Problem, 'code' | 'message'> = {},
  ) {
    super(message);
  }

  get status(): number {
    return statusOf(this.code);
  }

  toProblem(): Problem {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

/** Clients are told to back off this long when a 429 carries no better estimate. */
const defaultRetryAfterSeconds = 60;

export const requestIdOf = (ctx: Pick<ResponseTarget, 'state'>): string => {
  const id = ctx.state['requestId'];
  return typeof id === 'string' ? id : '';
};

export const sendProblem = (ctx: ResponseTarget, problem: Problem): void => {
  const status = statusOf(problem.code);
  const retryAfter = problem.retryAfterSeconds ?? (status === 429 ? defaultRetryAfterSeconds : undefined);
  if (retryAfter !== undefined) ctx.set('Retry-After', String(Math.max(0, Math.ceil(retryAfter))));
  for (const [name, value] of Object.entries(problem.headers ?? {})) ctx.set(name, value);
  const body: ErrorBody = {
    error: true,
    code: problem.code,
    message: problem.message,
    details: problem.details ?? [],
    request_id: requestIdOf(ctx),
    ...(problem.attemptsRemaining === undefined ? {} : { attempts_remaining: problem.attemptsRemaining }),
    ...(problem.challengeId === undefined ? {} : { challenge_id: problem.challengeId }),
    ...(problem.challengeStatus === undefined ? {} : { status: problem.challengeStatus }),
    ...(problem.reason === undefined ? {} : { reason: problem.reason }),
  };
  ctx.status = status;
  ctx.body = body;
};

/**
 * Answers a business rejection (a `Left` from a handler) with its status from the table. A
 * Rejection is a Problem (its code one of the table's, its extras Problem's own fields).
 */
export const sendRejection = (ctx: ResponseTarget, rejection: Rejection): void => sendProblem(ctx, rejection);

const knownRejectionCodes: ReadonlySet<string> = new Set(rejectionCodes);

/** True for a Rejection value (thrown or returned): an object with a known code and a message. */
export const isRejection = (value: unknown): value is Rejection =>
  typeof value === 'object' &&
  value !== null &&
  !(value instanceof Error) &&
  typeof (value as { code?: unknown }).code === 'string' &&
  knownRejectionCodes.has((value as { code: string }).code) &&
  typeof (value as { message?: unknown }).message === 'string';
