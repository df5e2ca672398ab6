// The bench's own PostgreSQL database and Redis logical database, created fresh and removed after.
import { Redis } from 'ioredis';
import pg from 'pg';

const admin = async (sql) => {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

const ident = (name) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  return name;
};

export const createDatabase = async (name) => {
  await dropDatabase(name);
  await admin(`CREATE DATABASE ${ident(name)}`);
  return `postgres://postgres@127.0.0.1:5432/${name}`;
};

// FORCE ends the connections a killed service may have left behind.
export const dropDatabase = (name) => admin(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);

/** FLUSHDB on one logical database only; the shared server's other databases are untouched. */
export const flushRedisDb = async (url) => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
};

export const redisKeyCount = async (url) => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await redis.dbsize();
  } finally {
    redis.disconnect();
  }
};
