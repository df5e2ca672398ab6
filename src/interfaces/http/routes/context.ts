import type { Either } from 'fp-ts/lib/Either.js';
import type { Context, Next } from 'koa';
import type { ActiveApp, Caller } from '../../../application/apps/app-view.js';
import type { Operator } from '../../../application/accounts/authenticate-operator.js';
import type { Handlers } from '../../../application/handlers.js';
import type { Rejection } from '../../../domain/shared/rejection.js';
import { addressKey } from '../client-address.js';
import { appScopeQuery } from '../codecs.js';
import { decodeOrThrow } from '../decode.js';
import { HttpError, sendRejection } from '../errors.js';

const unauthenticated = (message: string) => new HttpError('UNAUTHENTICATED', message, { headers: { 'WWW-Authenticate': 'Bearer' } });

/** The token of an `Authorization: Bearer <jwt>` header; the scheme is case-insensitive. */
export const bearerToken = (ctx: Context): string | undefined => {
  const match = /^bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
  return match?.[1];
};

/** `missing`: what a request without a bearer token is told. */
export const requireOperator = (handlers: Handlers, missing = 'A bearer token is required') => async (ctx: Context, next: Next) => {
  const token = bearerToken(ctx);
  if (token === undefined) throw unauthenticated(missing);
  const operator = await handlers.authenticateOperator(token);
  if (operator === null) throw unauthenticated('The token is invalid, expired or revoked');
  ctx.state.operator = operator;
  await next();
};

/** An app backend by its X-API-Key, or an operator by their JWT (who then names an app_id). */
export const requireCaller = (handlers: Handlers) => async (ctx: Context, next: Next) => {
  const key = ctx.get('x-api-key');
  if (key !== '') {
    const app = key.length <= 256 ? await handlers.authenticateApiKey(key) : null;
    if (app === null) throw unauthenticated('The API key is invalid');
    ctx.state.caller = { kind: 'app', app } satisfies Caller;
    return next();
  }
  const token = bearerToken(ctx);
  if (token === undefined) throw unauthenticated('An X-API-Key header or a bearer token is required');
  const operator = await handlers.authenticateOperator(token);
  if (operator === null) throw unauthenticated('The token is invalid, expired or revoked');
  ctx.state.caller = { kind: 'operator', account_id: operator.account_id } satisfies Caller;
  await next();
};

export const operatorOf = (ctx: Context): Operator => ctx.state.operator as Operator;

/**
 * The app_id a request names, in its body (POST, PUT) or in its query string (DESIGN: a JWT
 * works "when the body or query names an app_id"); when both do, they must agree.
 */
const namedAppId = (ctx: Context, fromBody: string | undefined): string | undefined => {
  if (ctx.query.app_id === undefined) return fromBody;
  const fromQuery = decodeOrThrow(appScopeQuery, { app_id: ctx.query.app_id }).app_id;
  if (fromBody !== undefined && fromQuery !== undefined && fromBody !== fromQuery)
    throw new HttpError('VALIDATION_FAILED', 'app_id differs between the query and the body', {
      details: [{ field: 'app_id', message: 'must be the same in the query and the body' }],
    });
  return fromBody ?? fromQuery;
};

/** The app this request acts on (`appId` from its body, else its query string); an operator's token must name one they own. */
export const appOf = async (ctx: Context, handlers: Handlers, fromBody: string | undefined): Promise<ActiveApp | null> => {
  const caller = ctx.state.caller as Caller;
  const appId = namedAppId(ctx, fromBody);
  if (caller.kind === 'operator' && appId === undefined)
    throw new HttpError('VALIDATION_FAILED', 'app_id is required with a bearer token', {
      details: [{ field: 'app_id', message: 'is required when authenticating with a bearer token' }],
    });
  const app = await handlers.resolveApp(caller, appId);
  if (app._tag === 'Left') {
    sendRejection(ctx, app.left);
    return null;
  }
  return app.right;
};

/** The connecting client (or, behind trusted proxies, the address they saw), as per-IP limits count it. */
export const clientIp = (ctx: Context): string => addressKey(ctx.ip || 'unknown');

/**
 * Whose address a send counts against the per-IP send cap: the end user's, when the caller
 * passes it (`end_user_ip`); else an operator's own (a person at a console); else none. An app
 * backend's own address is not its users': counting every send of a backend against one
 * address's cap would stop a real app within minutes, while the app's daily budget and the
 * per-recipient and number-block caps still hold it.
 */
export const requesterIp = (ctx: Context, endUserIp: string | undefined): string | undefined => {
  if (endUserIp !== undefined) return addressKey(endUserIp);
  return (ctx.state.caller as Caller).kind === 'operator' ? clientIp(ctx) : undefined;
};

/** Answers a handler's result: the mapped body with `status`, or the rejection from the table. */
export const respond = <A>(ctx: Context, result: Either<Rejection, A>, status: number, body: (a: A) => unknown = (a) => a): void => {
  if (result._tag === 'Left') return sendRejection(ctx, result.left);
  ctx.status = status;
  const payload = body(result.right);
  if (payload !== undefined) ctx.body = payload;
};
