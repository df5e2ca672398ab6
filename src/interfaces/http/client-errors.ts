/**
 * Requests Node's HTTP parser refuses before any middleware runs (a malformed request line or
 * header, a bad Content-Length, headers over the limit, a request that never finished arriving)
 * are answered in the API's error shape instead of Node's bare status lines, and the connection
 * closed, as Node does. A connection the client already broke gets no answer.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusOf, type HttpOnlyCode } from './error-table.js';

const answers: Readonly<Record<string, { readonly code: HttpOnlyCode; readonly message: string }>> = {
  HPE_HEADER_OVERFLOW: { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' },
};
const malformed = { code: 'MALFORMED_REQUEST', message: 'The request is not valid HTTP' } as const;

export const answerClientErrors = (server: Server): void => {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler: no answer once a response on this connection has begun (keep-alive),
    // or the client would read ours as the rest of that one. `_httpMessage` is that response.
    const inFlight = (socket as Duplex & { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?._headerSent === true) {
      socket.destroy();
      return;
    }
    const { code, message } = answers[error.code ?? ''] ?? malformed;
    const status = statusOf(code);
    const body = JSON.stringify({ error: true, code, message, details: [], request_id: randomUUID() });
    // Written, then the socket destroyed, as Node's own handler does: `end` alone only
    // half-closes it, and a client that never closes its side (a slow-request attack, hundreds of
    // connections sending a partial request) kept every one, file descriptor and all, until the
    // process ran out of them and could not reach its database.
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    // A client that does not read either cannot hold the answer, and the socket, back for long.
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
};
