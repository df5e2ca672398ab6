import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.js';
import { bodyLimitBytes } from '../field-rules.js';

const withBody = new Set(['POST', 'PUT', 'PATCH']);

const hasBody = (ctx: Context): boolean =>
  ctx.get('Transfer-Encoding') !== '' || Number(ctx.get('Content-Length') || '0') > 0;

/** Translates co-body/raw-body failures (http-errors with a `type`) into API errors. */
const translate = (error: unknown): HttpError => {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large' || status === 413)
    return new HttpError('PAYLOAD_TOO_LARGE', `The body must be at most ${bodyLimitBytes / 1024} KiB`);
  if (status === 415 || type === 'charset.unsupported' || type === 'encoding.unsupported')
    return new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8 JSON');
  return new HttpError('VALIDATION_FAILED', 'The body is not valid JSON', {
    details: [{ field: 'body', message: 'must be a JSON object' }],
  });
};

/** JSON only, 64 KiB, objects and arrays only; anything else is a 4xx before any route runs. */
export const jsonBodyMiddleware = (): Middleware => {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: bodyLimitBytes, jsonStrict: true, encoding: 'utf-8' });
  return async (ctx, next) => {
    if (!withBody.has(ctx.method)) return next();
    if (hasBody(ctx) && ctx.is('application/json') === false)
      throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be JSON (Content-Type: application/json)');
    let parsed = false;
    try {
      await parse(ctx, async () => {
        parsed = true;
      });
    } catch (error) {
      throw translate(error);
    }
    if (parsed) await next();
  };
};
