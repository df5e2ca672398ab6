import type { ChallengeEvent } from '../../domain/challenge/index.js';
import type { RecordedEvent } from '../ports.js';
import type { Projection, ProjectionChange } from '../read-models.js';
import { idOf } from './stream-id.js';

/**
 * The delivery worker's to-do list (`pending_deliveries`: challenges with a code to send and
 * when it is due) and the expiry sweeper's (`live_challenges`: open challenges and their
 * expiry). Both are rebuilt from the log, so a crash after the 202 loses no send.
 */
export const deliveriesProjection: Projection = {
  name: 'deliveries',
  collections: ['pending_deliveries', 'live_challenges'],
  apply: (recorded: RecordedEvent): readonly ProjectionChange[] => {
    if (!recorded.stream.startsWith('challenge-')) return [];
    const id = idOf(recorded.stream);
    const event = recorded as unknown as ChallengeEvent;
    // `since`: the log position of the event that made the code due, unique per due entry.
    // `due_ms` and `expires_ms`: the same instants as numbers, which queries can range over.
    // `app_id`: whose send it is, so the worker takes the apps' sends in turn (absent for a
    // resend recorded before stop 37).
    const due = (at: string, appId?: string): ProjectionChange => ({
      op: 'put',
      collection: 'pending_deliveries',
      id,
      doc: { challenge_id: id, pending: 'yes', due_at: at, due_ms: Date.parse(at), since: recorded.position, ...(appId === undefined ? {} : { app_id: appId }) },
    });
    // A retry or a lease moves the entry of a send already due, and never puts one back: the
    // challenge may have closed while the attempt was under way (its entry deleted), and an
    // entry put back then would be due for ever.
    const moved = (at: string): ProjectionChange => ({
      op: 'merge',
      collection: 'pending_deliveries',
      id,
      patch: { due_at: at, due_ms: Date.parse(at), since: recorded.position },
    });
    const done: ProjectionChange = { op: 'delete', collection: 'pending_deliveries', id };
    switch (event.type) {
      case 'ChallengeIssued':
        return [
          { op: 'put', collection: 'live_challenges', id, doc: { challenge_id: id, live: 'yes', expires_at: event.data.expires_at, expires_ms: Date.parse(event.data.expires_at) } },
          ...(event.data.channel !== null ? [due(event.data.at, event.data.app_id)] : []),
        ];
      case 'ChallengeResent':
        return [{ op: 'merge', collection: 'live_challenges', id, patch: { expires_at: event.data.expires_at, expires_ms: Date.parse(event.data.expires_at) } }, due(event.data.at, event.data.app_id)];
      // An attempt under way: due again only when its lease ends (if its outcome never comes).
      case 'DeliveryAttempted':
        return event.data.lease_until ? [moved(event.data.lease_until)] : [];
      // An outcome of a send a resend replaced leaves the newer send's entry alone. A failure
      // reported after delivery (its entry gone) puts it back when a fallback is to be sent:
      // the challenge was open when the report was recorded (report.ts).
      case 'DeliveryFailed':
        if (event.data.superseded_by !== undefined) return [];
        if (!event.data.retry_at) return [done];
        // A late failure's retry or fallback is put back naming its app (since stop 37; before,
        // without one, it waits its turn with the other entries without one).
        return [event.data.late ? due(event.data.retry_at, event.data.app_id) : moved(event.data.retry_at)];
      case 'DeliverySucceeded':
        return event.data.superseded_by !== undefined ? [] : [done];
      case 'ChallengeApproved':
      case 'ChallengeCanceled':
      case 'ChallengeLocked':
      case 'ChallengeExpired':
        return [done, { op: 'delete', collection: 'live_challenges', id }];
      default:
        return [];
    }
  },
};

/**
 * Whether projected changes made a code due by about `now`: what should wake the delivery
 * worker. A retry due later should not; a second of slack covers clocks of processes that
 * differ a little (the send's time comes from the process that took it).
 */
export const makesDeliveryDue = (changes: readonly ProjectionChange[], now: Date): boolean =>
  changes.some(
    (change) => change.op === 'put' && change.collection === 'pending_deliveries' && Date.parse(String(change.doc['due_at'])) <= now.getTime() + 1000,
  );
