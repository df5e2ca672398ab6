/** Per-request values that follow async calls, so log lines can carry the request id. */
import { AsyncLocalStorage } from 'node:async_hooks';

export type RequestContext = { readonly request_id: string };

const storage = new AsyncLocalStorage<RequestContext>();

export const runWithRequestContext = <T>(context: RequestContext, fn: () => T): T => storage.run(context, fn);

export const currentRequestId = (): string | undefined => storage.getStore()?.request_id;
