/**
 * A TCP proxy to a local server that a test can break the way networks break: `cut()` drops
 * every connection and refuses new ones (a partition the peers notice); `stall()` keeps every
 * connection open but forwards nothing, old or new (a half-open connection nobody notices);
 * `restore()` forwards again for new connections.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export type TcpProxy = {
  readonly port: number;
  readonly cut: () => void;
  readonly stall: () => void;
  readonly restore: () => void;
  readonly close: () => Promise<void>;
};

export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  const sockets = new Set<Socket>();
  const pairs = new Set<readonly [Socket, Socket]>();
  let mode: 'open' | 'cut' | 'stalled' = 'open';
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    if (mode === 'cut') return void client.destroy();
    track(client);
    if (mode === 'stalled') return void client.pause(); // accepted, never answered
    const upstream = createConnection(target);
    track(upstream);
    const pair = [client, upstream] as const;
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    client.on('close', () => (upstream.destroy(), pairs.delete(pair)));
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): void => {
    mode = 'cut';
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    stall: () => {
      mode = 'stalled';
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore: () => void (mode = 'open'),
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
