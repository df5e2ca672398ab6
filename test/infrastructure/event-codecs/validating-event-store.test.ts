import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { EventStore, RecordedEvent } from '../../../src/application/ports.js';
import { createInMemoryVault } from '../../../src/infrastructure/crypto/in-memory-vault.js';
import { createKeyring } from '../../../src/infrastructure/crypto/keyring.js';
import { CorruptEvent } from '../../../src/infrastructure/event-codecs/corrupt-event.js';
import { withEventValidation } from '../../../src/infrastructure/event-codecs/validating-event-store.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';
import type { EmbeddedSubscription } from '../../../src/infrastructure/event-store/subscription.js';
import { loadHashRoot } from '../../../src/infrastructure/hash-root.js';
import { minimalSamples, sampleEvents, samples } from './samples.js';

const at = '2025-03-03T10:00:00.000Z';

const setup = (options: Parameters<typeof withEventValidation>[1] = {}) => {
  const raw = createInMemoryEventStore();
  const invalid: CorruptEvent[] = [];
  const store = withEventValidation(raw, { ...options, onInvalid: (error) => invalid.push(error) });
  return { raw, store, invalid };
};

const failureOf = async (promise: Promise<unknown>): Promise<CorruptEvent> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CorruptEvent);
  return error as CorruptEvent;
};

const expectNoTraceOf = (error: CorruptEvent, ...secrets: string[]): void => {
  const everything = `${error.message}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
  for (const secret of secrets) expect(everything).not.toContain(secret);
};

const collect = (store: EventStore, count: number) => {
  const seen: RecordedEvent[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const subscription = store.subscribe(0, async (event) => {
    seen.push(event);
    if (seen.length === count) done();
  });
  return { seen, finished, subscription: subscription as EmbeddedSubscription };
};

describe('withEventValidation', () => {
  const all = [...sampleEvents({ ...samples }), ...sampleEvents(minimalSamples)];

  it.each(all)('round-trips a $type through append and readStream', async ({ type, data }) => {
    const { raw, store } = setup();
    await store.append(`s-${type}`, [{ type, data, metadata: { request_id: 'req-1' } }], 'no_stream');
    const [read] = await store.readStream(`s-${type}`);
    expect(read).toMatchObject({ stream: `s-${type}`, revision: 0, position: 1, type, data });
    const [stored] = await raw.readStream(`s-${type}`);
    expect(stored?.metadata).toEqual({ request_id: 'req-1', schema_version: 1 });
  });

  it('decodes readAll and passes headPosition and close through', async () => {
    const { store } = setup();
    for (const [i, event] of all.entries()) await store.append(`s-${i}`, [event], 'no_stream');
    const read = await store.readAll(0, 1000);
    expect(read.map(({ type, data }) => ({ type, data }))).toEqual(all);
    expect(await store.headPosition()).toBe(all.length);
    await store.close();
    await expect(store.readAll(0, 10)).rejects.toThrow('closed');
  });

  it('lets the real hash-root writer and reader through', async () => {
    const { raw, store } = setup();
    const vault = createInMemoryVault({ keyring: createKeyring([{ id: 'm1', key: randomBytes(32) }]) });
    const first = await loadHashRoot(store, vault);
    const again = await loadHashRoot(store, vault);
    expect(again.derive('x')).toEqual(first.derive('x'));
    expect((await raw.readStream('system-hash-root')).map((e) => [e.type, e.metadata.schema_version])).toEqual([['HashRootCreated', 1]]);
  });

  it('refuses a stored event with bad data, naming its place and fields but no value', async () => {
    const { raw, store, invalid } = setup();
    await raw.append('app-1', [{ type: 'AppRenamed', data: samples.AppRenamed }], 'no_stream');
    await raw.append('app-1', [{ type: 'AppRenamed', data: { name: { plaintext: 'hunter2' }, at, code: '492817' } }], 0);
    const error = await failureOf(store.readStream('app-1'));
    expect(error).toMatchObject({ stream: 'app-1', revision: 1, position: 2, eventType: 'AppRenamed', reason: 'invalid-data' });
    expect(error.paths).toEqual(['data.name', 'data.code']);
    expect(error.message).toContain('data.name');
    expect(error.message).toContain('data.code');
    expect(error.message).toContain('stream app-1 revision 1 position 2');
    expectNoTraceOf(error, 'hunter2', '492817');
    expect(invalid).toEqual([error]);
    await expect(store.readAll(0, 10)).rejects.toBeInstanceOf(CorruptEvent);
  });

  it('refuses a stored event of an unknown type', async () => {
    const { raw, store } = setup();
    await raw.append('x-1', [{ type: 'SomethingHappened', data: { secret: 's3cr3t' } }], 'no_stream');
    const error = await failureOf(store.readStream('x-1'));
    expect(error).toMatchObject({ stream: 'x-1', revision: 0, position: 1, eventType: 'SomethingHappened', reason: 'unknown-type', issues: [] });
    expectNoTraceOf(error, 's3cr3t');
  });

  it('refuses stored events of a newer or malformed schema version', async () => {
    const { raw, store } = setup();
    await raw.append('a', [{ type: 'LoginFailed', data: { at }, metadata: { schema_version: 2 } }], 'no_stream');
    await raw.append('b', [{ type: 'LoginFailed', data: { at }, metadata: { schema_version: '1' as unknown as number } }], 'no_stream');
    for (const stream of ['a', 'b']) {
      const error = await failureOf(store.readStream(stream));
      expect(error).toMatchObject({ stream, reason: 'unsupported-version' });
      expect(error.paths).toEqual(['metadata.schema_version']);
    }
  });

  it('reads events without a schema version as version 1', async () => {
    const { raw, store } = setup();
    await raw.append('acc-1', [{ type: 'LoginSucceeded', data: { at } }], 'no_stream');
    expect((await store.readStream('acc-1'))[0]?.data).toEqual({ at });
  });

  it('reads events a newer build wrote with fields it does not know, leaving them out and saying so once per field', async () => {
    const told: [string, string][] = [];
    const { raw, store, invalid } = setup({ onIgnoredField: (type, path) => told.push([type, path]) });
    const newer = { at, client: 'c-1', device: { os: 'ios' } };
    await raw.append('acc-1', [{ type: 'LoginFailed', data: newer }, { type: 'LoginFailed', data: newer }], 'no_stream');
    await raw.append('acc-1', [{ type: 'LoginSucceeded', data: { at, client: 'c-1', device: 'x' } }], 1);

    const read = await store.readStream('acc-1');
    expect(read.map((e) => e.data)).toEqual([{ at, client: 'c-1' }, { at, client: 'c-1' }, { at, client: 'c-1' }]);
    expect((await store.readAll(0, 10)).map((e) => e.data)).toEqual(read.map((e) => e.data));
    const { seen, finished, subscription } = collect(store, 3);
    await finished;
    await subscription.close();
    expect(seen.map((e) => e.data)).toEqual(read.map((e) => e.data));

    expect(told).toEqual([
      ['LoginFailed', 'data.device'],
      ['LoginSucceeded', 'data.device'],
    ]);
    expect(invalid).toEqual([]);
    expect((await raw.readStream('acc-1'))[0]?.data).toEqual(newer); // the log keeps what was written
    // Appending is as strict as ever: this build never writes a field it does not know.
    expect(await failureOf(store.append('acc-1', [{ type: 'LoginFailed', data: newer }], 2))).toMatchObject({ reason: 'invalid-data', index: 0 });
  });

  it('refuses to append an invalid event and writes nothing of its batch', async () => {
    const { raw, store, invalid } = setup();
    const batch = [
      { type: 'ChallengeResent', data: samples.ChallengeResent },
      { type: 'ChallengeResent', data: { ...samples.ChallengeResent, code: '492817' } },
    ];
    const error = await failureOf(store.append('challenge-1', batch, 'no_stream'));
    expect(error).toMatchObject({ stream: 'challenge-1', index: 1, revision: undefined, position: undefined, reason: 'invalid-data' });
    expect(error.paths).toEqual(['data.code']);
    expect(error.message).toContain('appending to stream challenge-1 (batch index 1)');
    expectNoTraceOf(error, '492817');
    expect(invalid).toEqual([error]);
    expect(await raw.headPosition()).toBe(0);
    expect(await raw.readStream('challenge-1')).toEqual([]);
  });

  it('refuses to append unknown types and versions other than the current one', async () => {
    const { raw, store } = setup();
    expect(await failureOf(store.append('s', [{ type: 'Nope', data: {} }], 'any'))).toMatchObject({ reason: 'unknown-type', index: 0 });
    for (const schema_version of [0, 2])
      expect(await failureOf(store.append('s', [{ type: 'LoginFailed', data: { at }, metadata: { schema_version } }], 'any'))).toMatchObject({
        reason: 'unsupported-version',
      });
    expect(await raw.headPosition()).toBe(0);
  });

  it('delivers decoded events to subscribers, and stops at a corrupt one', async () => {
    const { raw, store, invalid } = setup();
    const { seen, finished, subscription } = collect(store, 2);
    await store.append('acc-1', [{ type: 'AccountRegistered', data: samples.AccountRegistered }], 'no_stream');
    await store.append('acc-1', [{ type: 'LoggedOut', data: samples.LoggedOut }], 0);
    await finished;
    expect(seen.map(({ type, data }) => ({ type, data }))).toEqual([
      { type: 'AccountRegistered', data: samples.AccountRegistered },
      { type: 'LoggedOut', data: samples.LoggedOut },
    ]);
    await raw.append('acc-1', [{ type: 'LoginFailed', data: { at: 'never' } }], 1);
    await raw.append('acc-1', [{ type: 'LoginFailed', data: { at } }], 2);
    await expect(subscription.done).rejects.toBeInstanceOf(CorruptEvent);
    expect(seen).toHaveLength(2);
    expect(invalid.map((e) => [e.position, e.paths])).toEqual([[3, ['data.at']]]);
  });
});
