import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import Bourne from '@hapi/bourne';
import getRawBody from 'raw-body';
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.js';
import { bodyLimitBytes } from '../field-rules.js';

declare module 'koa' {
  interface Request {
    /** The JSON object a POST, PUT or PATCH sent (`{}` without a body), set by `jsonBodyMiddleware`. */
    body?: unknown;
  }
}

const withBody = new Set(['POST', 'PUT', 'PATCH']);

const hasBody = (ctx: Context): boolean =>
  ctx.get('Transfer-Encoding') !== '' || Number(ctx.get('Content-Length') || '0') > 0;

const badBody = (message: string, detail: string): HttpError =>
  new HttpError('VALIDATION_FAILED', message, { details: [{ field: 'body', message: detail }] });
const notJson = (): HttpError => badBody('The body is not valid JSON', 'must be a JSON object');
const notAnObject = (): HttpError => badBody('The body must be a JSON object', 'must be a JSON object');
/** A body past the limit, JSON or the form a webhook reads. */
export const payloadTooLarge = (limit: number = bodyLimitBytes): HttpError => new HttpError('PAYLOAD_TOO_LARGE', `The body must be at most ${limit / 1024} KiB`);

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
 * as @koa/bodyparser's co-body does); `constructor` and `prototype` are plain keys to JSON.parse.
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

/** Translates raw-body's and zlib's failures (http-errors with a `type` or a `status`) into API errors. */
const translate = (error: unknown, limit: number): HttpError => {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large' || status === 413) return payloadTooLarge(limit);
  if (status === 415) return new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8 JSON');
  return notJson();
};

/**
 * Bytes to text, refusing any that are not UTF-8: replacing them with U+FFFD would store
 * something other than what the client meant (an app name, a template) without telling it.
 * A leading byte-order mark is not part of the text.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });
const decodeUtf8 = (bytes: Uint8Array): string => {
  try {
    return utf8.decode(bytes);
  } catch {
    throw badBody('The body is not valid UTF-8', 'must be UTF-8 text');
  }
};

const plainJsonType = /^application\/json[\t ]*(?:;[\t ]*charset="?utf-8"?[\t ]*)?$/i;
const decimal = /^[0-9]{1,9}$/;

/**
 * The length of a body the fast path reads: plain UTF-8 JSON, not compressed, not chunked, its
 * Content-Length within the limit. Anything else (other charsets, gzip, chunked bodies,
 * oversized ones) takes the general path, whose answers the API contract tests pin down.
 */
const plainBodyLength = (req: IncomingMessage, limit: number): number | undefined => {
  const { headers } = req;
  const type = headers['content-type'];
  const length = headers['content-length'];
  if (type === undefined || length === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  const encoding = headers['content-encoding'];
  if ((encoding !== undefined && encoding !== 'identity') || !plainJsonType.test(type) || !decimal.test(length)) return undefined;
  const bytes = Number(length);
  // A request already read or closed goes the general way too (which answers a closed one).
  return bytes <= limit && !req.readableEnded && !req.destroyed ? bytes : undefined;
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
      try {
        resolve(decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)));
      } catch (refused) {
        reject(refused as Error);
      }
    };
    const onEnd = (): void => finish();
    const onAborted = (): void => finish(Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 }));
    req.on('data', onData).on('end', onEnd).on('error', finish).on('aborted', onAborted);
  });

/** At most twice the limit of a compressed body is taken, however little it unpacks to. */
const COMPRESSED_FACTOR = 2;

const httpError = (message: string, type: string, status: number): Error => Object.assign(new Error(message), { type, status });

/**
 * A compressed body (`Content-Encoding` gzip, deflate or br), unpacked by raw-body's rules.
 * The decoder is tied to the request by hand rather than by `pipe` alone: `pipe` neither ends
 * the decoder when the client goes away midway (raw-body would wait for ever: no answer, no log
 * line) nor keeps an error listener on it once raw-body has stopped listening, and a corrupt
 * block decoded after the limit then threw as an uncaught exception, taking the process down.
 */
const readCompressed = async (req: IncomingMessage, decoder: Transform, limit: number): Promise<Buffer> => {
  let compressed = 0;
  const stop = (error: Error): void => {
    req.unpipe(decoder);
    decoder.destroy(error);
  };
  const onData = (chunk: Buffer): void => {
    compressed += chunk.length;
    if (compressed > COMPRESSED_FACTOR * limit) stop(httpError('request entity too large', 'entity.too.large', 413));
  };
  const onClose = (): void => {
    if (!req.complete) stop(httpError('request aborted', 'request.aborted', 400));
  };
  // Whatever the decoder reports after raw-body stopped listening has no one left to tell.
  decoder.on('error', () => undefined);
  req.on('data', onData).on('close', onClose);
  req.pipe(decoder);
  try {
    return await getRawBody(decoder, { limit });
  } finally {
    req.off('data', onData).off('close', onClose);
    req.unpipe(decoder);
    decoder.destroy();
    // Like raw-body on the identity path: the rest of the body is left unread.
    req.pause();
  }
};

/**
 * Every other body: chunked, compressed, without a Content-Length, or with a type parameter the
 * direct read does not take. raw-body bounds what it reads after decompression (a small
 * compressed body cannot unpack into a large one) and checks a Content-Length against what
 * came; another Content-Encoding is a 415.
 */
const readGeneral = async (req: IncomingMessage, limit: number): Promise<string> => {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const length = req.headers['content-length'];
  let bytes: Buffer;
  try {
    if (encoding === 'identity')
      bytes = await getRawBody(req, { limit, ...(length !== undefined && decimal.test(length) ? { length: Number(length) } : {}) });
    else if (encoding === 'gzip' || encoding === 'deflate') bytes = await readCompressed(req, createUnzip(), limit);
    else if (encoding === 'br') bytes = await readCompressed(req, createBrotliDecompress(), limit);
    else throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8 JSON');
  } catch (error) {
    throw error instanceof HttpError ? error : translate(error, limit);
  }
  return decodeUtf8(bytes);
};

/**
 * JSON only (but for paths whose body is read elsewhere or not at all, `leaveUnread`), 64 KiB (or `limitBytes`), objects
 * only, UTF-8 only (whatever the charset says: ASCII reads the same in every charset a JSON
 * client would declare); anything else is a 4xx before the route runs. A plain UTF-8 JSON body with a Content-Length (what API clients send) is read directly,
 * saving the general path's layers on every request (docs/performance.md);
 * test/interfaces/http/json-body.test.ts holds both paths to the same outcomes.
 */
export const jsonBodyMiddleware = (options: { readonly leaveUnread?: (path: string) => boolean; readonly limitBytes?: number } = {}): Middleware => async (ctx, next) => {
  if (!withBody.has(ctx.method)) return next();
  // Routes that read their own (providers' webhooks: their own formats; apps: once the caller is
  // known, with a larger limit), and routes that take none (logout): a body they were sent is
  // neither read nor judged, as on GET and DELETE.
  if (options.leaveUnread?.(ctx.path)) return next();
  const limit = options.limitBytes ?? bodyLimitBytes;
  const length = plainBodyLength(ctx.req, limit);
  if (length !== undefined) {
    try {
      ctx.request.body = parseObject(await readText(ctx.req, length));
    } catch (error) {
      throw error instanceof HttpError ? error : translate(error, limit);
    }
    return next();
  }
  if (!hasBody(ctx)) {
    ctx.request.body = {};
    return next();
  }
  if (ctx.is('application/json') === false) throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'The body must be JSON (Content-Type: application/json)');
  // A client already gone gets no answer (499 in the access log, as nginx writes it).
  if (ctx.req.closed) {
    ctx.status = 499;
    return;
  }
  ctx.request.body = parseObject(await readGeneral(ctx.req, limit));
  return next();
};
