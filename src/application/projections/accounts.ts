import type { AccountEvent } from '../../domain/account/index.js';
import type { RecordedEvent } from '../ports.js';
import type { Projection, ProjectionChange } from '../read-models.js';

/** Operator accounts by id, the email index used at login and registration, and revoked tokens. */
export const accountsProjection: Projection = {
  name: 'accounts',
  collections: ['accounts', 'account_emails', 'revoked_tokens'],
  apply: (recorded: RecordedEvent): readonly ProjectionChange[] => {
    if (!recorded.stream.startsWith('account-')) return [];
    const event = recorded as unknown as AccountEvent;
    switch (event.type) {
      case 'AccountRegistered': {
        const { account_id, username, email, at } = event.data;
        return [
          { op: 'put', collection: 'accounts', id: account_id, doc: { id: account_id, username, email, created_at: at } },
          { op: 'put', collection: 'account_emails', id: email.toLowerCase(), doc: { account_id } },
        ];
      }
      case 'LoggedOut':
        return [{ op: 'put', collection: 'revoked_tokens', id: event.data.jti, doc: { expires_at: event.data.expires_at } }];
      default:
        return [];
    }
  },
};
