// The JSON body reader has two paths: plain UTF-8 JSON with a Content-Length is read directly,
// everything else (chunked, compressed) through raw-body. The same bodies must get the same
// answers on both: each case is sent once with a Content-Length (the direct path) and once
// chunked (the general path), and then gzipped, chunked (the general path's decompression).
import { request } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Router } from '@koa/router';
import { createHttpApp } from '../../../src/interfaces/http/app.js';
import { jsonBodyMiddleware } from '../../../src/interfaces/http/middleware/json-body.js';
import { captureLogger, serve, type Served } from './serve.js';

const router = new Router();
router.post('/api/echo', (ctx) => {
  ctx.body = { received: ctx.request.body ?? null };
});
// Apps' routes read their own bodies (after authentication, in the real router), with a limit of
// their own: here 128 KiB, under the same prefix.
const own = new Router({ prefix: '/api/app' });
own.use(jsonBodyMiddleware({ limitBytes: 128 * 1024 }));
own.post('/echo', (ctx) => {
  ctx.body = { received: ctx.request.body ?? null };
});

const logger = captureLogger();
let api: Served;
beforeAll(async () => {
  api = await serve(createHttpApp({ logger, corsOrigins: [], routers: [router, own], openApi: {} }));
});
afterAll(() => api.close());

type Answer = { status: number; code?: string; message?: string; received?: unknown };

const send = (body: Buffer, headers: Record<string, string>, chunked: boolean, path = '/api/echo'): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const url = new URL(api.url(path));
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: chunked ? headers : { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(parts).toString('utf8')) as { code?: string; message?: string; received?: unknown };
          resolve({ status: res.statusCode ?? 0, ...(json.code === undefined ? { received: json.received } : { code: json.code, message: json.message }) });
        });
      },
    );
    req.on('error', reject);
    // Chunked: written in two pieces without a length, so Node sends Transfer-Encoding: chunked.
    if (chunked && body.length > 1) {
      req.write(body.subarray(0, 1));
      req.end(body.subarray(1));
    } else req.end(body);
  });

const json = { 'content-type': 'application/json' };
const utf8 = Buffer.from('{"name":"Zoë 🙂"}', 'utf8');
const notJson: Answer = { status: 400, code: 'VALIDATION_FAILED', message: 'The body is not valid JSON' };
const notAnObject: Answer = { status: 400, code: 'VALIDATION_FAILED', message: 'The body must be a JSON object' };
const notUtf8: Answer = { status: 400, code: 'VALIDATION_FAILED', message: 'The body is not valid UTF-8' };
const prototypeKey: Answer = { status: 400, code: 'VALIDATION_FAILED', message: 'The body must not contain a __proto__ key' };
const cases: ReadonlyArray<readonly [string, Buffer, Record<string, string>, Answer]> = [
  ['an object', Buffer.from('{"a":1,"b":[true,null]}'), json, { status: 200, received: { a: 1, b: [true, null] } }],
  ['an empty body', Buffer.alloc(0), json, { status: 200, received: {} }],
  ['UTF-8 text', utf8, json, { status: 200, received: { name: 'Zoë 🙂' } }],
  ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]), json, { status: 200, received: { a: 1 } }],
  ['charset=utf-8', Buffer.from('{"a":1}'), { 'content-type': 'application/json; charset=UTF-8' }, { status: 200, received: { a: 1 } }],
  ['an array', Buffer.from(' [1,2]'), json, notAnObject],
  ['an empty array', Buffer.from('[]'), json, notAnObject],
  ['a string', Buffer.from('"text"'), json, notAnObject],
  ['a number', Buffer.from('42'), json, notAnObject],
  ['null', Buffer.from('null'), json, notAnObject],
  ['true', Buffer.from(' true'), json, notAnObject],
  ['broken JSON', Buffer.from('{"a":'), json, notJson],
  ['a trailing comma', Buffer.from('{"a":1,}'), json, notJson],
  ['a broken scalar', Buffer.from('tru'), json, notJson],
  ['prototype poisoning', Buffer.from('{"a":{"__proto__":{"admin":true}}}'), json, prototypeKey],
  ['escaped prototype poisoning', Buffer.from('{"\\u005f_proto__":{"admin":true}}'), json, prototypeKey],
  ['prototype poisoning in an array', Buffer.from('{"a":[{"__proto__":{"admin":true}}]}'), json, prototypeKey],
  // JSON.parse makes these plain own keys, reaching no prototype, and the codecs drop unknown keys.
  ['constructor and prototype keys', Buffer.from('{"constructor":{"prototype":{"admin":true}}}'), json, { status: 200, received: { constructor: { prototype: { admin: true } } } }],
  ['64 KiB exactly', Buffer.from(JSON.stringify({ a: 'x'.repeat(64 * 1024 - 8) })), json, { status: 200, received: { a: 'x'.repeat(64 * 1024 - 8) } }],
  ['one byte over 64 KiB', Buffer.from(JSON.stringify({ a: 'x'.repeat(64 * 1024 - 7) })), json, { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 64 KiB' }],
  // Bytes that are not UTF-8 are refused, not read with U+FFFD in their place.
  ['a Latin-1 byte', Buffer.from([...Buffer.from('{"name":"Zo'), 0xeb, ...Buffer.from('"}')]), json, notUtf8],
  ['a lone surrogate, encoded', Buffer.from([...Buffer.from('{"a":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]), json, notUtf8],
  ['an overlong encoding', Buffer.from([...Buffer.from('{"a":"'), 0xc0, 0xaf, ...Buffer.from('"}')]), json, notUtf8],
  ['a truncated sequence at the end', Buffer.from([...Buffer.from('{"a":1}'), 0xf0, 0x9f]), json, notUtf8],
  ['U+FFFD itself, sent as UTF-8', Buffer.from('{"a":"\uFFFD"}', 'utf8'), json, { status: 200, received: { a: '\uFFFD' } }],
  // Read as UTF-8 whatever the charset says; ASCII reads the same in any charset a client declares.
  ['another charset', Buffer.from('{"a":1}'), { 'content-type': 'application/json; charset=latin1' }, { status: 200, received: { a: 1 } }],
  ['another charset with a byte past ASCII', Buffer.from([...Buffer.from('{"a":"'), 0xe9, ...Buffer.from('"}')]), { 'content-type': 'application/json; charset=latin1' }, notUtf8],
  ['another type', Buffer.from('{"a":1}'), { 'content-type': 'text/plain' }, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be JSON (Content-Type: application/json)' }],
];

describe('JSON bodies: the direct read and the general path answer alike', () => {
  it.each(cases)('%s', async (_name, body, headers, expected) => {
    const direct = await send(body, headers, false);
    const general = await send(body, headers, true);
    expect({ direct, general }).toEqual({ direct: expected, general: expected });
  });

  it.each(cases)('%s, gzipped', async (_name, body, headers, expected) => {
    expect(await send(gzipSync(body), { ...headers, 'content-encoding': 'gzip' }, true)).toEqual(expected);
  });

  it('deflate and br too; a body that unpacks past 64 KiB is a 413; another encoding or a broken stream is refused', async () => {
    const object = Buffer.from('{"a":1}');
    expect(await send(deflateSync(object), { ...json, 'content-encoding': 'deflate' }, true)).toEqual({ status: 200, received: { a: 1 } });
    expect(await send(brotliCompressSync(object), { ...json, 'content-encoding': 'br' }, true)).toEqual({ status: 200, received: { a: 1 } });
    // 1 MiB of spaces before the object compresses to about a kilobyte.
    const bomb = gzipSync(Buffer.concat([Buffer.alloc(1024 * 1024, 0x20), object]));
    expect(bomb.length).toBeLessThan(4096);
    expect(await send(bomb, { ...json, 'content-encoding': 'gzip' }, true)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 64 KiB' });
    expect(await send(bomb, { ...json, 'content-encoding': 'gzip' }, false)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 64 KiB' });
    expect(await send(object, { ...json, 'content-encoding': 'compress' }, true)).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be UTF-8 JSON' });
    expect(await send(Buffer.from('not gzip at all'), { ...json, 'content-encoding': 'gzip' }, true)).toEqual(notJson);
  });

  it("a route's own limit holds on every path: direct, chunked, gzip, br, and for what a compressed body unpacks to", async () => {
    const within = Buffer.from(JSON.stringify({ a: 'x'.repeat(100 * 1024) }));
    const over = Buffer.from(JSON.stringify({ a: 'x'.repeat(128 * 1024 - 7) }));
    const tooLarge: Answer = { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 128 KiB' };
    const accepted: Answer = { status: 200, received: { a: 'x'.repeat(100 * 1024) } };
    const ways = [
      (body: Buffer) => send(body, json, false, '/api/app/echo'),
      (body: Buffer) => send(body, json, true, '/api/app/echo'),
      (body: Buffer) => send(gzipSync(body), { ...json, 'content-encoding': 'gzip' }, true, '/api/app/echo'),
      (body: Buffer) => send(brotliCompressSync(body), { ...json, 'content-encoding': 'br' }, false, '/api/app/echo'),
    ];
    for (const way of ways) expect([await way(within), await way(over)]).toEqual([accepted, tooLarge]);
    // Every other path keeps 64 KiB.
    expect(await send(within, json, false)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 64 KiB' });
  });

  it('a compressed body with a corrupt block after the limit is refused and the process keeps serving', async () => {
    // A second gzip member: a valid header, then garbage the decoder reaches only after the
    // limit stopped the read. Where it lands against the limit depends on chunking: several sizes.
    const corruptMember = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8]);
    for (const kib of [66, 70, 80, 90, 100, 110, 120]) {
      const body = Buffer.concat([gzipSync(Buffer.alloc(kib * 1024, 0x20)), corruptMember]);
      // 400 where the garbage comes before the limit, 413 where after.
      const { status } = await send(body, { ...json, 'content-encoding': 'gzip' }, true);
      expect([kib, status === 400 || status === 413]).toEqual([kib, true]);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await send(Buffer.from('{"a":3}'), json, false)).toEqual({ status: 200, received: { a: 3 } });
  });

  it('takes at most 128 KiB of a compressed body, however little it unpacks to', async () => {
    // Stored deflate blocks of no bytes: 5 bytes each on the wire, nothing unpacked.
    const empty = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
    const last = Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]);
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
    const trailer = Buffer.alloc(8); // CRC-32 and length of nothing: both 0
    const within = Buffer.concat([header, ...Array.from({ length: 1000 }, () => empty), last, trailer]);
    expect(await send(within, { ...json, 'content-encoding': 'gzip' }, true)).toEqual({ status: 200, received: {} });
    const endless = Buffer.concat([header, ...Array.from({ length: 30_000 }, () => empty), last, trailer]);
    expect(await send(endless, { ...json, 'content-encoding': 'gzip' }, true)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body must be at most 64 KiB' });
  });

  it('a client gone midway through a compressed body still ends its request: one access line, no hang', async () => {
    const url = new URL(api.url('/'));
    const before = logger.lines.filter((line) => line.message === 'request').length;
    const half = gzipSync(Buffer.from(JSON.stringify({ a: 'x'.repeat(4000) }))).subarray(0, 40);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n');
        socket.write(`${half.length.toString(16)}\r\n`);
        socket.write(half);
        socket.write('\r\n');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    const deadline = Date.now() + 3000;
    while (logger.lines.filter((line) => line.message === 'request').length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logger.lines.filter((line) => line.message === 'request').length).toBe(before + 1);
    expect(await send(Buffer.from('{"a":4}'), json, false)).toEqual({ status: 200, received: { a: 4 } });
  });

  it('a request that stops before its Content-Length is answered 400 or dropped, and the server keeps serving', async () => {
    const url = new URL(api.url('/'));
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
        socket.end(); // half-close: the body never completes
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
      socket.on('close', () => resolve(text));
    });
    expect(answer === '' || answer.startsWith('HTTP/1.1 400')).toBe(true);
    expect(await send(Buffer.from('{"a":2}'), json, false)).toEqual({ status: 200, received: { a: 2 } });
  });
});
