import type { IncomingMessage } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Bourne from '@hapi/bourne';
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.js';
import { bodyLimitBytes } from '../field-rules.js';

const withBody = new Set(['POST', 'PUT', 'PATCH']);

const hasBody = (ctx: Context): boolean =>
  ctx.get('Transfer-Encoding') !== '' || Number(ctx.get('Content-Length') || '0') > 0;

const badBody = (message: string, detail: string): HttpError =>
  new HttpError('VALIDATION_FAILED', message, { details: [{ field: 'body', message: detail }] });
const notJson = (): HttpError => badBody('The body is not valid JSON', 'must be a JSON object');
const notAnObject = (): HttpError => badBody('The body must be a JSON object', 'must be a JSON object');

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/**
 * Every route takes a JSON object. A `__proto__` key anywhere is refused (prototype poisoning,
 * as co-body refuses it); `constructor` and `prototype` are plain keys to JSON.parse.
 */
const parseObject = (text: string): object => {
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = Bourne.parse(text, { protoAction: 'error' });
  } catch {
    // Bourne refuses valid JSON only for a __proto__ key; telling the two apart costs a second
    // parse, paid by refused bodies only.
    throw isJson(text) ? badBody('The body must not contain a __proto__ key', 'must not contain a __proto__ key') : notJson();
  }
  if (!isObject(parsed)) throw notAnObject();
  return parsed;
};

/** Translates co-body/raw-body failures (http-errors with a `type`) into API errors. */
const translate = (error: unknown): HttpError => {
  const { type, status, body } = (error ?? {}) as { type?: unknown; status?: unknown; body?: unknown };
  if (type === 'entity.too.large' || status === 413)
    return new HttpError('PAYLOAD_TOO_LARGE', `The body must be at most ${bodyLimitBytes / 1024} KiB`);
  if (status === 415 || type === 'charset.unsupported' || type === 'encoding.unsupported')
    return new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8 JSON');
  // co-body hands back the text it refused: judged as the direct read judges it, the answer is the same.
  if (typeof body === 'string')
    try {
      parseObject(body);
    } catch (judged) {
      if (judged instanceof HttpError) return judged;
    }
  return notJson();
};

const plainJsonType = /^application\/json[\t ]*(?:;[\t ]*charset="?utf-8"?[\t ]*)?$/i;
const decimal = /^[0-9]{1,9}$/;

/**
 * The length of a body the fast path reads: plain UTF-8 JSON, not compressed, not chunked, its
 * Content-Length within the limit. Anything else (other charsets, gzip, chunked bodies,
 * oversized ones) takes the general path, whose answers the API contract tests pin down.
 */
const plainBodyLength = (req: IncomingMessage): number | undefined => {
  const { headers } = req;
  const type = headers['content-type'];
  const length = headers['content-length'];
  if (type === undefined || length === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  const encoding = headers['content-encoding'];
  if ((encoding !== undefined && encoding !== 'identity') || !plainJsonType.test(type) || !decimal.test(length)) return undefined;
  const bytes = Number(length);
  // A request already read or closed goes the general way too (which answers a closed one).
  return bytes <= bodyLimitBytes && !req.readableEnded && !req.destroyed ? bytes : undefined;
};

/** The whole body as text; rejects (with raw-body's error type) a request aborted midway. */
const readText = (req: IncomingMessage, length: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const finish = (error?: Error): void => {
      req.off('data', onData).off('end', onEnd).off('error', finish).off('aborted', onAborted);
      if (error !== undefined) return reject(error);
      if (received !== length) return reject(Object.assign(new Error('request size did not match content length'), { type: 'request.size.invalid', status: 400 }));
      // Like the general path (iconv-lite), a leading byte-order mark is not part of the text.
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onEnd = (): void => finish();
    const onAborted = (): void => finish(Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 }));
    req.on('data', onData).on('end', onEnd).on('error', finish).on('aborted', onAborted);
  });

/**
 * JSON only, 64 KiB, objects only; anything else is a 4xx before any route runs.
 * A plain UTF-8 JSON body with a Content-Length (what API clients send) is read directly;
 * @koa/bodyparser (co-body, raw-body, type-is) reads every other kind with the same answers.
 * The direct read saves its eight promises and its layers on every request
 * (docs/performance.md); test/interfaces/http/json-body.test.ts holds both paths to the same
 * outcomes.
 */
export const jsonBodyMiddleware = (): Middleware => {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: bodyLimitBytes, jsonStrict: true, encoding: 'utf-8' });
  return async (ctx, next) => {
    if (!withBody.has(ctx.method)) return next();
    const length = plainBodyLength(ctx.req);
    if (length !== undefined) {
      try {
        ctx.request.body = parseObject(await readText(ctx.req, length));
      } catch (error) {
        throw error instanceof HttpError ? error : translate(error);
      }
      return next();
    }
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
    // co-body's strict mode takes arrays too.
    if (parsed && !isObject(ctx.request.body)) throw notAnObject();
    if (parsed) await next();
  };
};
