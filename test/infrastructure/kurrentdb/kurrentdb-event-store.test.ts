/**
 * The adapter with the real client but no server (a closed local port): what must hold before
 * and without a connection. Behaviour against a server is the contract suite in
 * test/contract/event-store.kurrentdb.test.ts (run when EVENTSTORE_CONNECTION_STRING is set).
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { DependencyUnavailable } from '../../../src/application/errors.js';
import type { Logger } from '../../../src/application/ports.js';
import { createKurrentDbEventStore, type KurrentDbEventStore } from '../../../src/infrastructure/kurrentdb/kurrentdb-event-store.js';

const closedPort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('KurrentDB event store without a server', () => {
  let connectionString: string;
  const stores: KurrentDbEventStore[] = [];
  const open = (options: { streamPrefix?: string; logger?: Logger } = {}) => {
    const store = createKurrentDbEventStore({ connectionString, ...options });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    connectionString = `kurrentdb://127.0.0.1:${await closedPort()}?tls=false`;
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('connects lazily: creating and closing a store needs no server', async () => {
    const store = open();
    await store.close();
    await expect(store.readAll(0, 10)).rejects.toThrow('Event store is closed');
  });

  it.each([
    ['append', (store: KurrentDbEventStore) => store.append('s', [{ type: 'T', data: {} }], 'no_stream')],
    ['readStream', (store: KurrentDbEventStore) => store.readStream('s')],
    ['readAll', (store: KurrentDbEventStore) => store.readAll(0, 10)],
    ['headPosition', (store: KurrentDbEventStore) => store.headPosition()],
  ])('reports an unreachable server from %s as DependencyUnavailable', async (_name, call) => {
    const error = await rejectionOf(call(open()));
    expect(error).toBeInstanceOf(DependencyUnavailable);
    expect(error).toMatchObject({ dependency: 'kurrentdb' });
  });

  it('refuses an unserializable event before any I/O', async () => {
    const error = await rejectionOf(open().append('s', [{ type: 'T', data: { n: 1n } }], 'any'));
    expect(error).toBeInstanceOf(TypeError);
  });

  it('keeps retrying a subscription while the server is down, and stops on close', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined };
    const store = open({ logger });
    const seen: unknown[] = [];
    const subscription = store.subscribe(0, async (event) => void seen.push(event));
    const deadline = Date.now() + 10_000;
    while (warnings.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings[0]).toBe('KurrentDB subscription lost, resubscribing');
    await subscription.close();
    await expect(subscription.done).resolves.toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('refuses a bad connection string without echoing it', () => {
    let error: unknown;
    try {
      createKurrentDbEventStore({ connectionString: 'http://admin:s3cr3t-pass@db:2113' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Invalid KurrentDB connection string/);
    expect((error as Error).message).not.toContain('s3cr3t');
    expect((error as Error).cause).toBeUndefined();
  });

  it('refuses a stream prefix in the system namespace', () => {
    expect(() => open({ streamPrefix: '$test-' })).toThrow(/cannot start with "\$"/);
  });
});
