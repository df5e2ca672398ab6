/**
 * Event store on KurrentDB / EventStoreDB (official gRPC client). Streams map one to one onto
 * KurrentDB streams (optionally under a prefix), revisions are stream revisions, and the global
 * position is the $all commit position (see toGlobalPosition): strictly increasing, but sparse.
 * Reads of $all and subscriptions skip system events and everything outside the prefix.
 */
import {
  KurrentDBClient,
  WrongExpectedVersionError,
  excludeSystemEvents,
  streamNameFilter,
  type Filter,
} from '@kurrent/kurrentdb-client';
import { DependencyUnavailable } from '../../application/errors.js';
import { WrongExpectedRevision, type EventStore, type ExpectedRevision, type Logger, type RecordedEvent } from '../../application/ports.js';
import { fromRevisionOf, limitOf } from '../event-store/read-stream-options.js';
import { createStreamNamespace, toEventData, toRecordedEvent, type ResolvedEventShape } from './kurrentdb-events.js';
import {
  isUnavailable,
  normalizeConnectionString,
  toGlobalPosition,
  toRevision,
  toStreamState,
  toWrongExpectedRevision,
} from './kurrentdb-mapping.js';
import { readAllAfter, readHeadPosition, readServerStream, readTail } from './kurrentdb-reads.js';
import { startSubscription, type KurrentDbSubscription } from './kurrentdb-subscription.js';

export type KurrentDbEventStoreOptions = {
  /** kurrentdb://, kurrentdb+discover:// (esdb:// and esdb+discover:// are accepted too). */
  readonly connectionString: string;
  /**
   * Keeps this store's streams apart in a shared database: stored as `prefix + stream`, and
   * readAll, subscribe and headPosition only see streams under the prefix. Unset: the whole log.
   * No namespace's prefix may start with another's ('otp-' would also see 'otp-staging-...').
   */
  readonly streamPrefix?: string;
  /** Told when a subscription lost its connection and is retrying. */
  readonly logger?: Logger;
};

export type KurrentDbEventStore = Omit<EventStore, 'subscribe'> & {
  readonly subscribe: (after: number, handler: (event: RecordedEvent) => Promise<void>) => KurrentDbSubscription;
};

const connect = (connectionString: string): KurrentDBClient => {
  try {
    return KurrentDBClient.connectionString(normalizeConnectionString(connectionString));
  } catch (error) {
    // The parser's message can quote the string, credentials included: keep only its kind.
    throw new Error(`Invalid KurrentDB connection string (${error instanceof Error ? error.name : 'parse error'})`);
  }
};

export const createKurrentDbEventStore = (options: KurrentDbEventStoreOptions): KurrentDbEventStore => {
  const namespace = createStreamNamespace(options.streamPrefix);
  const client = connect(options.connectionString);
  const filter: Filter = namespace.prefix ? streamNameFilter({ prefixes: [namespace.prefix] }) : excludeSystemEvents();
  const subscriptions = new Set<KurrentDbSubscription>();
  let closed = false;

  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error('Event store is closed');
    try {
      return await work();
    } catch (error) {
      throw isUnavailable(error) ? new DependencyUnavailable('kurrentdb', error) : error;
    }
  };
  const toRecorded = (resolved: ResolvedEventShape) => toRecordedEvent(resolved, namespace);

  const tail = (stream: string) => readTail(client, namespace.toServer(stream));
  const conflict = async (stream: string, expected: ExpectedRevision) =>
    new WrongExpectedRevision(stream, expected, (await tail(stream))?.revision ?? 'no_stream');

  return {
    append: (stream, events, expected) =>
      guard(async () => {
        const data = events.map(toEventData);
        if (data.length === 0) {
          const last = await tail(stream);
          const actual = last?.revision ?? 'no_stream';
          if (expected !== 'any' && expected !== actual) throw new WrongExpectedRevision(stream, expected, actual);
          return { revision: last?.revision ?? -1, position: last?.position ?? 0 };
        }
        try {
          const result = await client.appendToStream(namespace.toServer(stream), data, { streamState: toStreamState(expected) });
          // Only when the connection string sets throwOnAppendFailure=false.
          if (!result.success) throw await conflict(stream, expected);
          return { revision: toRevision(result.nextExpectedRevision), position: toGlobalPosition(result.position?.commit) };
        } catch (error) {
          if (error instanceof WrongExpectedVersionError) throw toWrongExpectedRevision(stream, expected, error.actualState);
          throw error;
        }
      }),
    readStream: (stream, options) =>
      guard(async () => {
        const from = fromRevisionOf(options);
        const limit = limitOf(options);
        // The server starts the read there; from 0 it is the plain read (START, the default).
        const read = await readServerStream(client, namespace.toServer(stream), {
          ...(from > 0 ? { fromRevision: BigInt(from) } : {}),
          ...(limit === undefined ? {} : { maxCount: limit }),
        });
        return read.flatMap((resolved) => toRecorded(resolved) ?? []);
      }),
    readAll: (after, limit) => guard(() => readAllAfter(client, filter, toRecorded, after, limit)),
    subscribe: (after, handler) => {
      if (closed) throw new Error('Event store is closed');
      const subscription = startSubscription(
        {
          open: (fromPosition) => client.subscribeToAll({ fromPosition, filter }),
          toRecorded,
          onRetry: (error) => options.logger?.warn('KurrentDB subscription lost, resubscribing', { error: String(error) }),
        },
        after,
        handler,
      );
      subscriptions.add(subscription);
      // `done` is left unobserved here, so a subscription that dies still surfaces (see its type).
      return {
        done: subscription.done,
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    headPosition: () => guard(() => readHeadPosition(client, filter, toRecorded)),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };
};
