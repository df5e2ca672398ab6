import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { isSqliteUnavailable } from '../../../src/infrastructure/event-store/sqlite-unavailable.js';
import { isPostgresUnavailable } from '../../../src/infrastructure/postgres/unavailable.js';

const serverError = (code: string, message = 'refused') => Object.assign(new Error(message), { code, severity: 'FATAL' });
const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('isPostgresUnavailable', () => {
  it.each([
    ['a refused connection', systemError('ECONNREFUSED')],
    ['a reset connection', systemError('ECONNRESET')],
    ['an unknown host', systemError('ENOTFOUND')],
    ['a process out of file descriptors for a new connection', systemError('EMFILE')],
    ['a machine out of file descriptors', systemError('ENFILE')],
    ['a machine out of local ports', systemError('EADDRNOTAVAIL')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['a client after a connection error', new Error('Client has encountered a connection error and is not queryable')],
    ['an admin shutdown', serverError('57P01', 'terminating connection due to administrator command')],
    ['a server starting up', serverError('57P03', 'the database system is starting up')],
    ['too many connections', serverError('53300', 'sorry, too many clients already')],
    ['a connection exception', serverError('08006')],
    ['a cause that is one of these', new Error('grouped read failed', { cause: systemError('ECONNREFUSED') })],
  ])('recognises %s', (_, error) => {
    expect(isPostgresUnavailable(error)).toBe(true);
  });

  it.each([
    ['a syntax error', serverError('42601', 'syntax error at or near "SELEC"')],
    ['a unique violation', serverError('23505', 'duplicate key value violates unique constraint')],
    ['a statement cancelled by its timeout', serverError('57014', 'canceling statement due to statement timeout')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'rows')")],
    ['a server error whose message looks like a lost connection', serverError('XX000', 'Connection terminated')],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_, error) => {
    expect(isPostgresUnavailable(error)).toBe(false);
  });

  it('recognises what pg really throws when nothing listens', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPostgresUnavailable(error)).toBe(true);
  });
});

describe('isSqliteUnavailable', () => {
  it.each(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_READONLY'])('recognises %s', (code) => {
    expect(isSqliteUnavailable(Object.assign(new Error('sqlite'), { code }))).toBe(true);
  });
  it.each(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', undefined])('does not take %s for an outage', (code) => {
    expect(isSqliteUnavailable(Object.assign(new Error('sqlite'), { code }))).toBe(false);
  });
});
