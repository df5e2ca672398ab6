/**
 * Upcasting: events are stored in the shape of the schema version that wrote them and
 * brought up to the current shape on read, one version step at a time. A step only exists
 * for types that changed in that version; every other type passes through unchanged.
 */
export type Upcaster = (data: unknown) => unknown;
/** The step that turns `type` data of `fromVersion` into `fromVersion + 1`, if that type changed then. */
export type UpcasterRegistry = (type: string, fromVersion: number) => Upcaster | undefined;

export type UpcasterStep = { readonly type: string; readonly from: number; readonly upcast: Upcaster };

export const makeUpcasterRegistry = (steps: readonly UpcasterStep[]): UpcasterRegistry => {
  const byKey = new Map<string, Upcaster>();
  for (const step of steps) {
    const key = `${step.from}\u0000${step.type}`;
    if (byKey.has(key)) throw new Error(`Two upcasters for ${step.type} from version ${step.from}`);
    byKey.set(key, step.upcast);
  }
  return (type, fromVersion) => byKey.get(`${fromVersion}\u0000${type}`);
};

/** No event type has changed since version 1. */
export const eventUpcasters: UpcasterRegistry = makeUpcasterRegistry([]);

export const upcast = (registry: UpcasterRegistry, type: string, data: unknown, from: number, to: number): unknown => {
  let current = data;
  for (let version = from; version < to; version++) {
    const step = registry(type, version);
    if (step) current = step(current);
  }
  return current;
};
