import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { isSqliteUnavailable } from '../../../src/infrastructure/event-store/sqlite-unavailable.js';
import { isConnectionError } from '../../../src/infrastructure/postgres/event-store-listener.js';
import { isPostgresUnavailable } from '../../../src/infrastructure/postgres/unavailable.js';
import { testDatabaseUrl } from '../../support/postgres.js';

const serverError = (code: string, message = 'refused', severity = 'FATAL') => Object.assign(new Error(message), { code, severity });
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
    ['a database not accepting connections', serverError('55000', 'database "otp" is not currently accepting connections')],
    // A server whose messages are translated: severity is not "FATAL", the connection-time codes still tell.
    ['a database that does not exist, in another language', serverError('3D000', 'база данных "otp" не существует', 'ВАЖНО')],
    ['a password refused, in another language', serverError('28P01', 'пароль не подошёл', 'ВАЖНО')],
  ])('recognises %s', (_, error) => {
    expect(isPostgresUnavailable(error)).toBe(true);
  });

  it.each([
    ['a syntax error', serverError('42601', 'syntax error at or near "SELEC"', 'ERROR')],
    ['a unique violation', serverError('23505', 'duplicate key value violates unique constraint', 'ERROR')],
    ['a statement cancelled by its timeout', serverError('57014', 'canceling statement due to statement timeout', 'ERROR')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'rows')")],
    ['a server error whose message looks like a lost connection', serverError('XX000', 'Connection terminated', 'ERROR')],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_, error) => {
    expect(isPostgresUnavailable(error)).toBe(false);
  });

  it('recognises what pg really throws for a database that does not accept connections (FATAL 55000)', async () => {
    const server = new URL(testDatabaseUrl());
    server.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    const name = `noconn_${process.pid}_${Date.now()}`;
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      const where = new URL(server);
      where.pathname = `/${name}`;
      const error = await new pg.Client({ connectionString: where.toString() }).connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: '55000', severity: 'FATAL' });
      expect(isPostgresUnavailable(error)).toBe(true);
      // A subscriber's read waits for it to accept connections again, as for an outage.
      expect(isConnectionError(error)).toBe(true);
      // An ERROR of that class is a refusal, not an outage.
      expect(isPostgresUnavailable(serverError('55000', 'object not in prerequisite state', 'ERROR'))).toBe(false);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    }
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

describe("isConnectionError (what a subscriber's read retries)", () => {
  it.each([
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a refused connection', systemError('ECONNREFUSED')],
    ['an admin shutdown', serverError('57P01', 'terminating connection due to administrator command')],
    ['a database not accepting connections', serverError('55000', 'database "otp" is not currently accepting connections')],
  ])('retries %s', (_, error) => {
    expect(isConnectionError(error)).toBe(true);
  });
  it.each([
    ['a syntax error', serverError('42601', 'syntax error at or near "SELEC"', 'ERROR')],
    ['a statement cancelled by its timeout', serverError('57014', 'canceling statement due to statement timeout', 'ERROR')],
  ])('fails on %s', (_, error) => {
    expect(isConnectionError(error)).toBe(false);
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
