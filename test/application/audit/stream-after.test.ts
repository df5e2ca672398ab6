import { describe, expect, it } from '@jest/globals';
import { readStreamAfter } from '../../../src/application/audit/stream-after.js';
import type { EventStore, ReadStreamOptions } from '../../../src/application/ports.js';
import { createInMemoryEventStore } from '../../../src/infrastructure/event-store/in-memory-event-store.js';

/** A store holding `long` (n events) interleaved with `other`, counting the reads of `long`. */
const interleaved = async (n: number) => {
  const store = createInMemoryEventStore();
  for (let i = 0; i < n; i++) {
    await store.append('long', [{ type: 'Refused', data: { i } }], 'any');
    if (i % 3 === 0) await store.append('other', [{ type: 'Other', data: { i } }], 'any');
  }
  const reads: ReadStreamOptions[] = [];
  const counted: Pick<EventStore, 'readStream'> = {
    readStream: (stream, options) => {
      if (stream === 'long') reads.push(options ?? {});
      return store.readStream(stream, options);
    },
  };
  return { store, counted, reads };
};

describe('readStreamAfter: a page of a long stream by log position', () => {
  it('returns exactly the events of the stream above each position, at most limit of them', async () => {
    const { store, counted } = await interleaved(40);
    const all = await store.readStream('long');
    const head = await store.headPosition();
    for (let after = 0; after <= head + 1; after++) {
      for (const limit of [1, 3, 40, 100]) {
        const expected = all.filter((event) => event.position > after).slice(0, limit);
        expect(await readStreamAfter(counted, 'long', after, limit)).toEqual(expected);
      }
    }
  });

  it('reads a page from the start, then single events, about twice log2 of the stream, instead of the stream', async () => {
    const { store, counted, reads } = await interleaved(1000);
    const all = await store.readStream('long');
    const after = all[700]!.position;
    const page = await readStreamAfter(counted, 'long', after, 10);
    expect(page.map((event) => event.revision)).toEqual([701, 702, 703, 704, 705, 706, 707, 708, 709, 710]);
    expect(reads[0]).toEqual({ limit: 10 });
    expect(reads.slice(1, -1).every((options) => options.limit === 1)).toBe(true);
    expect(reads.at(-1)).toEqual({ fromRevision: 701, limit: 10 });
    expect(reads.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1000)) + 2);
  });

  it('answers a page near the start of a long stream without probing: one read, or two when the page begins inside it', async () => {
    const { store, counted, reads } = await interleaved(1000);
    const all = await store.readStream('long');

    expect(await readStreamAfter(counted, 'long', 0, 10)).toEqual(all.slice(0, 10));
    expect(reads).toEqual([{ limit: 10 }]);

    reads.length = 0;
    expect(await readStreamAfter(counted, 'long', all[3]!.position, 10)).toEqual(all.slice(4, 14));
    expect(reads).toEqual([{ limit: 10 }, { fromRevision: 10, limit: 4 }]);

    const { store: shortStore, counted: short, reads: shortReads } = await interleaved(6);
    const six = await shortStore.readStream('long');
    expect(await readStreamAfter(short, 'long', six[2]!.position, 10)).toEqual(six.slice(3));
    expect(shortReads).toEqual([{ limit: 10 }]);
  });

  it('is [] for a missing stream and past the end', async () => {
    const { store, counted } = await interleaved(5);
    expect(await readStreamAfter(counted, 'nope', 0, 10)).toEqual([]);
    expect(await readStreamAfter(counted, 'long', await store.headPosition(), 10)).toEqual([]);
  });
});
