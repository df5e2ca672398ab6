/**
 * Per-request values that follow async calls, so log lines and events can carry the request id.
 *
 * They live in the process's one AsyncLocalStorage, whose store is an OpenTelemetry `Context`:
 * with tracing loaded, OpenTelemetry's context manager uses this same storage
 * (telemetry/context-manager.ts), so the request id and the active span travel in one store.
 * Each AsyncLocalStorage costs every promise a property and a hook call on Node 20; two of them
 * were about a tenth of what a verification allocated (docs/performance.md). Without tracing the
 * storage works alone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createContextKey, ROOT_CONTEXT, type Context } from '@opentelemetry/api';

export type RequestContext = { readonly request_id: string };

export const contextStorage = new AsyncLocalStorage<Context>();

const requestKey = createContextKey('otp-verify request context');

/** Runs fn with `request` added to the current context (the active span, if any, stays). */
export const runWithRequestContext = <T>(request: RequestContext, fn: () => T): T =>
  contextStorage.run((contextStorage.getStore() ?? ROOT_CONTEXT).setValue(requestKey, request), fn);

export const currentRequestId = (): string | undefined =>
  (contextStorage.getStore()?.getValue(requestKey) as RequestContext | undefined)?.request_id;
