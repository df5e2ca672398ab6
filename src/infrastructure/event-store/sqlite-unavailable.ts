/**
 * Whether an error from better-sqlite3 means the embedded database cannot be used right now
 * (locked past its busy timeout, an I/O error, a full disk, a file that cannot be opened or
 * written), so the request is answered 503 rather than 500.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/;

export const isSqliteUnavailable = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code);
};
