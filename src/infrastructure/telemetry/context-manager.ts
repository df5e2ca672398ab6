/**
 * OpenTelemetry's AsyncLocalStorage context manager, on the storage the request context already
 * uses (logging/request-context.ts) instead of a second one: one store per async resource
 * carries both the active span and the request id. Everything else (binding functions and
 * event emitters, attach) is the library's own.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

type WithStorage = { _asyncLocalStorage: AsyncLocalStorage<Context> };

export class SharedStorageContextManager extends AsyncLocalStorageContextManager {
  constructor(storage: AsyncLocalStorage<Context>) {
    super();
    // The library keeps its storage in this field and uses no other (with, attach, bind all go
    // through it). Should a version rename it, fail at start rather than run on two storages.
    if (!(this as unknown as Partial<WithStorage>)._asyncLocalStorage)
      throw new Error('@opentelemetry/context-async-hooks no longer keeps _asyncLocalStorage: update telemetry/context-manager.ts');
    (this as unknown as WithStorage)._asyncLocalStorage = storage;
  }

  /** The storage is the request context's too: disabling it would drop every request's id. */
  override disable(): this {
    return this;
  }
}
