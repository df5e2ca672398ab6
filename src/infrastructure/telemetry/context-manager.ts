/**
 * OpenTelemetry's AsyncLocalStorage context manager, on the storage the request context already
 * uses (logging/request-context.ts) instead of a second one: one store per async resource
 * carries both the active span and the request id. Everything else (binding functions and
 * event emitters, attach) is the library's own.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

export class SharedStorageContextManager extends AsyncLocalStorageContextManager {
  constructor(storage: AsyncLocalStorage<Context>) {
    super();
    // The library keeps its storage in this field and uses nothing else (checked by
    // test/infrastructure/telemetry/context-manager.test.ts against the installed version).
    (this as unknown as { _asyncLocalStorage: AsyncLocalStorage<Context> })._asyncLocalStorage = storage;
  }
}
