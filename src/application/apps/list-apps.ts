import type { Deps } from '../deps.js';
import type { AppView } from './app-view.js';

/** The operator's apps, from the apps projection, oldest first. */
export const makeListApps =
  (deps: Pick<Deps, 'readModels'>) =>
  async (ownerId: string): Promise<readonly AppView[]> => {
    const docs = await deps.readModels.findBy('apps', 'owner_id', ownerId);
    return docs
      .map((d) => ({ id: d.id, name: d.name, policy: d.policy, created_at: d.created_at }) as AppView)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  };
