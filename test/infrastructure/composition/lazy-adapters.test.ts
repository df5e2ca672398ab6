/**
 * The embedded default must not load the client libraries of adapters it does not use: each
 * costs memory in every process (the KurrentDB client ~33 MB, twilio and ioredis ~21 MB, pg
 * ~14 MB, nodemailer ~13 MB, resend ~3 MB). A fresh process builds the compiled service, so
 * nothing another test imported counts.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { compileService } from '../../support/service-process.js';

const OPTIONAL_CLIENTS = ['@kurrent/kurrentdb-client', 'twilio', 'nodemailer', 'resend', 'pg', 'ioredis'];

/** Packages loaded by a process that starts and closes the service on the embedded default. */
const packagesLoadedByEmbeddedService = async (compiledDir: string): Promise<string[]> => {
  const fixture = join(resolve('.'), 'test', 'fixtures', 'loaded-packages.mjs');
  // Only PATH: no DATABASE_URL, REDIS_URL, EVENTSTORE_CONNECTION_STRING or provider settings leak in.
  const { stdout } = await promisify(execFile)(process.execPath, [fixture, compiledDir], { env: { PATH: process.env['PATH'] ?? '' }, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
};

describe('adapters load only when configured', () => {
  let loaded: string[];

  beforeAll(async () => {
    loaded = await packagesLoadedByEmbeddedService(await compileService());
  }, 240_000);

  it('sees the packages the embedded default does use', () => {
    expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3', 'argon2', 'jose']));
  });

  it('loads no client library of an adapter the embedded default does not use', () => {
    expect(loaded.filter((name) => OPTIONAL_CLIENTS.includes(name))).toEqual([]);
  });
});
