export * from './decider.js';
export * from './rejection.js';
export * from './sealed.js';
export * from './time.js';
export * from './types.js';
export * from './hints.js';
export * from './text.js';
