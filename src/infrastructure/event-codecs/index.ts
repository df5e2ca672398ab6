export type { HashRootCreated } from './system.js';
export { eventCodecs, decodeEventData, readEventData, isStoredEventType, type FieldIssue, type StoredEvent, type StoredEventType } from './codecs.js';
export { CorruptEvent, type CorruptEventReason, type EventLocation } from './corrupt-event.js';
export { eventUpcasters, makeUpcasterRegistry, upcast, type Upcaster, type UpcasterRegistry, type UpcasterStep } from './upcasters.js';
export { withEventValidation, type EventValidationOptions } from './validating-event-store.js';
