/**
 * Requests Node's HTTP parser refuses before the app sees them get the API's error shape from
 * a real service process, not Node's bare status lines: a malformed header, headers over the
 * limit, a Content-Length beside chunked encoding. The connection is closed after each.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startServiceProcess, stopAllServiceProcesses, tempDir, type ServiceProcess } from '../../support/service-process.js';

/** Writes `raw` on a fresh connection and resolves with everything read until the server closes it. */
const exchange = (port: number, raw: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
  });

const parse = (answer: string) => {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as Record<string, unknown> };
};

describe('requests the HTTP parser refuses', () => {
  const dir = tempDir('client-errors');
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await startServiceProcess({ env: { DATA_DIR: dir.path, OUTBOX_FILE: join(dir.path, 'outbox.jsonl') } });
  }, 120_000);
  afterAll(async () => {
    await stopAllServiceProcesses();
    dir.remove();
  });

  it.each([
    ['a malformed header line', 'GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['headers over the limit', `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ['Content-Length beside chunked encoding', 'POST /api/code/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'MALFORMED_REQUEST'],
  ])('answers %s in the API error shape and closes', async (_what, raw, status, code) => {
    const answer = parse(await exchange(service.port, raw));
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['connection']).toBe('close');
    expect(answer.body).toEqual({ error: true, code, message: expect.any(String), details: [], request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('keeps serving after them', async () => {
    const answer = await fetch(`${service.url}/health/live`);
    expect(answer.status).toBe(200);
  });
});
