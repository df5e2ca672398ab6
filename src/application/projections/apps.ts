import type { ClientAppEvent } from '../../domain/client-app/index.js';
import type { RecordedEvent } from '../ports.js';
import type { Projection, ProjectionChange } from '../read-models.js';
import { idOf } from './stream-id.js';

/** Apps by id (listed per owner) and the API-key index: keyed hash of a key -> its app. */
export const appsProjection: Projection = {
  name: 'apps',
  collections: ['apps', 'api_keys'],
  apply: (recorded: RecordedEvent): readonly ProjectionChange[] => {
    if (!recorded.stream.startsWith('app-')) return [];
    const id = idOf(recorded.stream);
    const event = recorded as unknown as ClientAppEvent;
    switch (event.type) {
      case 'AppRegistered': {
        const { owner_id, name, policy, at } = event.data;
        return [{ op: 'put', collection: 'apps', id, doc: { id, owner_id, name, policy, created_at: at, updated_at: at } }];
      }
      case 'AppRenamed':
        return [{ op: 'merge', collection: 'apps', id, patch: { name: event.data.name, updated_at: event.data.at } }];
      case 'AppPolicyChanged':
        return [{ op: 'merge', collection: 'apps', id, patch: { policy: event.data.policy, updated_at: event.data.at } }];
      case 'ApiKeyIssued':
        return [{ op: 'put', collection: 'api_keys', id: event.data.key_hash, doc: { app_id: id, key_id: event.data.key_id } }];
      // A key kept working for a while stays in the index; the app's stream says until when
      // (authenticate-api-key.ts). It leaves with the revocation that ends it, if one comes
      // (another rotation, the app's close); one that runs out stays, finding an app that refuses it.
      case 'ApiKeyRevoked':
        return event.data.until === undefined ? [{ op: 'delete', collection: 'api_keys', id: event.data.key_hash }] : [];
      case 'AppClosed':
        return [{ op: 'delete', collection: 'apps', id }];
    }
  },
};
