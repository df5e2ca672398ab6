/**
 * Whether an error from pg means PostgreSQL is out of reach, so the request is answered 503
 * (retry later) rather than 500: a connection refused, lost or not made in time, or the server
 * shutting down, starting up or out of connections, or any error that ends the session (FATAL).
 * A statement PostgreSQL refused for what it says (ERROR) is not. Causes are followed, since adapters may wrap what pg threw.
 */
// EMFILE, ENFILE and EADDRNOTAVAIL: this process (or machine) out of descriptors or ports for
// a new connection, an outage of the database for as long as it lasts.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EMFILE', 'ENFILE', 'EADDRNOTAVAIL']);
/**
 * SQLSTATEs of an unusable server: connection exceptions (class 08), admin/crash shutdown,
 * cannot connect now, too many connections, and what only a connection's start answers (no
 * such database, 3D000; authentication refused, class 28), which the FATAL check below also
 * covers unless the server's messages are translated (`severity` follows lc_messages).
 */
export const SERVER_UNAVAILABLE = /^(08|57P0[123]|53300|3D000|28)/;
/** What pg and pg-pool throw for a connection that is gone or could not be had. */
const CLIENT_LOST = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Query read timeout)/;

type ErrorLike = { readonly code?: unknown; readonly severity?: unknown; readonly message?: unknown; readonly cause?: unknown };

export const isPostgresUnavailable = (error: unknown): boolean => {
  // Duck-typed, not instanceof Error: errors from Node's own sockets may come from another realm.
  let current = error as ErrorLike | null | undefined;
  for (let depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const { code, message } = current;
    const fromServer = typeof current.severity === 'string';
    if (typeof code === 'string' && (fromServer ? SERVER_UNAVAILABLE.test(code) : NETWORK_CODES.has(code))) return true;
    // FATAL (or PANIC) ends the session, whatever its SQLSTATE: a database not accepting
    // connections (55000, ALLOW_CONNECTIONS false) was answered 500 (found by a review).
    if (fromServer && (current.severity === 'FATAL' || current.severity === 'PANIC')) return true;
    if (!fromServer && typeof message === 'string' && CLIENT_LOST.test(message)) return true;
    current = current.cause as ErrorLike | null | undefined;
  }
  return false;
};
