/**
 * A stand-in SMTP server on loopback (smtp-server): requires AUTH with the given credentials,
 * records the envelope and the raw message, and can refuse a stage with a scripted reply.
 * Also a server that accepts connections and never speaks, for timeouts.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type SmtpStage = 'auth' | 'mail' | 'rcpt' | 'data';
export type SmtpReply = { readonly stage: SmtpStage; readonly code: number; readonly message: string };

export type ReceivedMail = {
  readonly user: string | undefined;
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly raw: string;
};

export type FakeSmtp = {
  readonly port: number;
  readonly url: (user?: string, pass?: string) => string;
  readonly received: ReceivedMail[];
  /** Refuses the next command of that stage with this reply (once each). */
  readonly script: (...replies: SmtpReply[]) => void;
  readonly close: () => Promise<void>;
};

const replyError = (reply: SmtpReply) => Object.assign(new Error(reply.message), { responseCode: reply.code });

export const startFakeSmtp = async (credentials: { user: string; pass: string }): Promise<FakeSmtp> => {
  const received: ReceivedMail[] = [];
  const replies: SmtpReply[] = [];
  const take = (stage: SmtpStage) => {
    const index = replies.findIndex((reply) => reply.stage === stage);
    return index < 0 ? undefined : replies.splice(index, 1)[0];
  };

  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    // No TLS on loopback: STARTTLS would need a certificate the client trusts.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, callback) => {
      const scripted = take('auth');
      if (scripted) return callback(replyError(scripted));
      if (auth.username !== credentials.user || auth.password !== credentials.pass) {
        return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
      return callback(null, { user: auth.username });
    },
    onMailFrom: (_address, session, callback) => {
      const scripted = take('mail');
      if (scripted) return callback(replyError(scripted));
      return callback(session.user ? null : Object.assign(new Error('Authentication required'), { responseCode: 530 }));
    },
    onRcptTo: (_address, _session, callback) => {
      const scripted = take('rcpt');
      callback(scripted ? replyError(scripted) : null);
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const scripted = take('data');
        if (scripted) return callback(replyError(scripted));
        const envelope = session.envelope;
        received.push({
          user: session.user as string | undefined,
          mailFrom: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
          rcptTo: envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        return callback(null, 'Message queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    port,
    url: (user = credentials.user, pass = credentials.pass) =>
      `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`,
    received,
    script: (...next) => void replies.push(...next),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** Accepts TCP connections and never sends a greeting. */
export const startSilentServer = async (): Promise<{ port: number; close: () => Promise<void> }> => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};

/**
 * A bare SMTP server (no authentication, no extensions) that waits `stepMs` before every reply,
 * the greeting included: each step inside any per-step timeout above it, the message as a whole
 * as slow as the steps add up to. `received` counts the messages it accepted (250 after DATA).
 */
export const startSlowServer = async (stepMs: number): Promise<{ port: number; received: () => number; close: () => Promise<void> }> => {
  const sockets = new Set<Socket>();
  let received = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const reply = (line: string, then?: () => void) =>
      setTimeout(() => {
        if (socket.destroyed) return;
        socket.write(`${line}\r\n`);
        then?.();
      }, stepMs);
    let buffer = '';
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        buffer = buffer.slice(end + 5);
        inData = false;
        return reply('250 2.0.0 queued', () => (received += 1));
      }
      let newline: number;
      while ((newline = buffer.indexOf('\r\n')) >= 0) {
        const command = buffer.slice(0, newline).toUpperCase();
        buffer = buffer.slice(newline + 2);
        if (command.startsWith('EHLO') || command.startsWith('HELO')) reply('250 slow.example');
        else if (command.startsWith('DATA')) {
          inData = true;
          return reply('354 go ahead');
        } else if (command.startsWith('QUIT')) reply('221 bye', () => socket.end());
        else reply('250 ok');
      }
    });
    reply('220 slow.example ESMTP');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};

/** A loopback port with nothing listening on it. */
export const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

export type MimePart = { readonly headers: Record<string, string>; readonly body: string };

const decodeQuotedPrintable = (text: string): string =>
  Buffer.from(
    text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

const parseHeaders = (block: string): Record<string, string> =>
  Object.fromEntries(
    block
      .replace(/\r?\n[ \t]+/g, ' ')
      .split(/\r?\n/)
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );

/** The top-level headers and the decoded leaf parts of a (multipart) message. */
export const parseMime = (raw: string): { headers: Record<string, string>; parts: MimePart[] } => {
  const split = (entity: string): { headers: Record<string, string>; body: string } => {
    const at = entity.search(/\r?\n\r?\n/);
    return { headers: parseHeaders(entity.slice(0, at)), body: entity.slice(at).replace(/^\r?\n\r?\n/, '') };
  };
  const leaves = (entity: string): MimePart[] => {
    const { headers, body } = split(entity);
    const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
    if (boundary && /^multipart\//i.test(headers['content-type'] ?? '')) {
      return body
        .split(`--${boundary}`)
        .slice(1, -1)
        .flatMap((part) => leaves(part.replace(/^\r?\n/, '')));
    }
    const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
    const decoded =
      encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
    return [{ headers, body: decoded.replace(/\r?\n$/, '') }];
  };
  return { headers: split(raw).headers, parts: leaves(raw) };
};
