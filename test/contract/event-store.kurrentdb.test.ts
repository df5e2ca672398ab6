/**
 * The event store contract against a real KurrentDB / EventStoreDB server. Needs
 * EVENTSTORE_CONNECTION_STRING; jest.config.js leaves this file out when it is unset.
 *
 * The contract assumes each test starts from an empty log (readAll(0), headPosition() === 0).
 * A shared server is never empty, so every test gets a store under a fresh stream prefix: it
 * reads, subscribes to and reports the head of only that run's streams.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { FORWARDS, KurrentDBClient } from '@kurrent/kurrentdb-client';
import type { NewEvent, RecordedEvent } from '../../src/application/ports.js';
import { createKurrentDbEventStore, type KurrentDbEventStore } from '../../src/infrastructure/kurrentdb/kurrentdb-event-store.js';
import { normalizeConnectionString } from '../../src/infrastructure/kurrentdb/kurrentdb-mapping.js';
import { eventStoreContract } from './event-store.contract.js';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'] ?? '';
if (connectionString.trim() === '') {
  throw new Error('EVENTSTORE_CONNECTION_STRING is not set: this suite needs a KurrentDB server');
}

const freshPrefix = () => `otp-test-${randomUUID().replaceAll('-', '')}-`;
const events = (count: number, type = 'Happened'): NewEvent[] => Array.from({ length: count }, (_, i) => ({ type, data: { i } }));

const eventually = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

eventStoreContract('kurrentdb', async () => {
  const subject = createKurrentDbEventStore({ connectionString, streamPrefix: freshPrefix() });
  return { subject, cleanup: subject.close };
});

describe('KurrentDB event store specifics', () => {
  const stores: KurrentDbEventStore[] = [];
  let raw: KurrentDBClient;
  const open = (streamPrefix?: string) => {
    const store = createKurrentDbEventStore({ connectionString, ...(streamPrefix === undefined ? {} : { streamPrefix }) });
    stores.push(store);
    return store;
  };
  beforeAll(() => {
    raw = KurrentDBClient.connectionString(normalizeConnectionString(connectionString));
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await raw.dispose();
  });

  it('uses the $all commit position of each event, distinct within one multi-event append', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    const first = await store.append('m', events(3), 'no_stream');
    const second = await store.append('m', events(1), 2);
    const all = await store.readAll(0, 100);
    expect(all.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
    all.slice(1).forEach((e, i) => expect(e.position).toBeGreaterThan(all[i]!.position));
    expect(first.position).toBe(all[2]!.position);
    expect(second.position).toBe(all[3]!.position);
    expect((await store.readStream('m')).map((e) => e.position)).toEqual(all.map((e) => e.position));

    const direct: { id: string; commit: bigint; prepare: bigint }[] = [];
    for await (const resolved of raw.readStream(`${prefix}m`, { direction: FORWARDS })) {
      direct.push({ id: resolved.event!.id, commit: resolved.event!.position!.commit, prepare: resolved.event!.position!.prepare });
    }
    // toReadPosition relies on commit === prepare for every event appended over gRPC.
    expect(direct).toEqual(all.map((e) => ({ id: e.id, commit: BigInt(e.position), prepare: BigInt(e.position) })));
  });

  it('keeps stores under different prefixes apart', async () => {
    const a = open(freshPrefix());
    const b = open(freshPrefix());
    await a.append('s', events(2, 'A'), 'no_stream');
    await b.append('s', events(1, 'B'), 'no_stream');
    await a.append('s', events(1, 'A'), 1);
    const seenByB: RecordedEvent[] = [];
    const subscription = b.subscribe(0, async (event) => void seenByB.push(event));
    await eventually(() => seenByB.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await subscription.close();
    expect((await a.readStream('s')).map((e) => e.type)).toEqual(['A', 'A', 'A']);
    expect((await b.readStream('s')).map((e) => e.type)).toEqual(['B']);
    expect((await a.readAll(0, 100)).map((e) => e.type)).toEqual(['A', 'A', 'A']);
    expect(seenByB.map((e) => `${e.stream}:${e.type}`)).toEqual(['s:B']);
    expect(await a.headPosition()).toBeGreaterThan(await b.headPosition());
  });

  it('without a prefix, skips system events in readAll and subscriptions', async () => {
    const store = open();
    const stream = `otp-test-system-${randomUUID()}`;
    const before = await store.append(stream, events(1, 'Before'), 'no_stream');
    // Writes a $metadata event to the $$ stream, between our two events in $all.
    await raw.setStreamMetadata(stream, { maxAge: 86_400 });
    const after = await store.append(stream, events(1, 'After'), 0);

    const read = await store.readAll(before.position, 1000);
    expect(read.map((e) => e.position)).toContain(after.position);
    expect(read.filter((e) => e.type.startsWith('$') || e.stream.startsWith('$'))).toEqual([]);

    const delivered: RecordedEvent[] = [];
    const subscription = store.subscribe(before.position, async (event) => void delivered.push(event));
    await eventually(() => delivered.some((e) => e.position === after.position));
    await subscription.close();
    expect(delivered.filter((e) => e.type.startsWith('$') || e.stream.startsWith('$'))).toEqual([]);
    expect(await store.headPosition()).toBeGreaterThanOrEqual(after.position);
  });
});
