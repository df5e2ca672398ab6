import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import type { Deps } from '../deps.js';
import type { ActiveApp, Caller } from './app-view.js';
import { makeGetOwnedApp } from './get-app.js';

/**
 * The app a request acts on. An app key implies its app (an app_id naming another app is
 * "not found"); an operator must name an app they own.
 */
export const makeResolveApp = (deps: Pick<Deps, 'load'>) => {
  const getOwnedApp = makeGetOwnedApp(deps);
  return async (caller: Caller, appId: string | undefined): Promise<Either<Rejection, ActiveApp>> => {
    if (caller.kind === 'app')
      return appId === undefined || appId === caller.app.app_id ? right(caller.app) : left(reject('NOT_FOUND', 'App not found'));
    if (appId === undefined)
      return left(reject('NOT_FOUND', 'app_id is required when authenticating with a token', { details: [{ field: 'app_id', message: 'required with a bearer token' }] }));
    return getOwnedApp(caller.account_id, appId);
  };
};
