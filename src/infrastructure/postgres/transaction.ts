/** One short transaction on a connection of the pool. */
import type pg from 'pg';

/**
 * Runs `work` between BEGIN and COMMIT on one connection; on an error, rolls back and rethrows.
 * A connection whose rollback fails is dropped, not handed to the next caller.
 */
export const inTransaction = async <T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').then(
      () => client.release(),
      (rollback: Error) => client.release(rollback),
    );
    throw error;
  }
};
