import { describe, expect, it } from '@jest/globals';
import { eventUpcasters, makeUpcasterRegistry, upcast } from '../../../src/infrastructure/event-codecs/upcasters.js';

const registry = makeUpcasterRegistry([
  { type: 'Renamed', from: 1, upcast: (d) => ({ ...(d as object), trail: [...(d as { trail: string[] }).trail, 'v1->v2'] }) },
  { type: 'Renamed', from: 3, upcast: (d) => ({ ...(d as object), trail: [...(d as { trail: string[] }).trail, 'v3->v4'] }) },
  { type: 'Other', from: 1, upcast: () => ({ other: true }) },
]);

describe('upcasters', () => {
  it('apply each step in order from the stored version up to the target, skipping versions with no change', () => {
    expect(upcast(registry, 'Renamed', { trail: [] }, 1, 4)).toEqual({ trail: ['v1->v2', 'v3->v4'] });
    expect(upcast(registry, 'Renamed', { trail: [] }, 2, 4)).toEqual({ trail: ['v3->v4'] });
    expect(upcast(registry, 'Renamed', { trail: [] }, 4, 4)).toEqual({ trail: [] });
  });

  it('only touch their own type', () => {
    expect(upcast(registry, 'Unrelated', { x: 1 }, 1, 4)).toEqual({ x: 1 });
    expect(upcast(registry, 'Other', { x: 1 }, 1, 2)).toEqual({ other: true });
  });

  it('refuse two steps for the same type and version', () => {
    const step = { type: 'A', from: 1, upcast: (d: unknown) => d };
    expect(() => makeUpcasterRegistry([step, step])).toThrow('Two upcasters for A from version 1');
  });

  it('start empty: no event type has changed since version 1', () => {
    expect(eventUpcasters('AppRegistered', 1)).toBeUndefined();
  });
});
