/**
 * answerClientErrors writes its JSON answer on the socket only when no response on that
 * connection has begun: once one has, the client would read ours as the rest of it, so the
 * connection is closed instead (as Node's own handler does). Fresh connections are covered
 * against a real process in test/integration/processes/client-errors.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { answerClientErrors } from '../../../src/interfaces/http/client-errors.js';

describe('client errors on a keep-alive connection', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // Every response starts at once and never ends: ten bytes announced, five sent.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' });
      res.write('hello');
    });
    answerClientErrors(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('closes without an answer when a malformed request follows a response already under way', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      let sentBad = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (!sentBad && text.includes('hello')) {
          sentBad = true;
          socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
        }
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => reject(new Error('the connection stayed open')));
    });
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.endsWith('hello')).toBe(true);
    expect(received).not.toContain('MALFORMED_REQUEST');
  });

  it('answers in the API shape on a connection with nothing under way', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(received).toContain('"code":"MALFORMED_REQUEST"');
  });

  it('lets go of the connection after answering, even when the client never closes its side', async () => {
    // A partial request, then silence: a client holding its half of the connection open.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
    try {
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      await new Promise<void>((resolve) => socket.once('end', resolve));
      expect(text).toContain('MALFORMED_REQUEST');
      // The server's side is gone at once, not waiting for the client's FIN (nor for the
      // handler's 5 s backstop).
      const deadline = Date.now() + 2_000;
      let open = 1;
      while (Date.now() < deadline && (open = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)))) > 0) await new Promise((r) => setTimeout(r, 20));
      expect(open).toBe(0);
    } finally {
      socket.destroy();
    }
  });
});
