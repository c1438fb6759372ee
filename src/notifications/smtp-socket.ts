import { connect, Socket } from 'node:net';

type SocketOptions = { host?: string; port?: number; secure?: boolean };
type GetSocket = (options: SocketOptions, callback: (error: Error | null, socketOptions?: { connection: Socket }) => void) => void;

/**
 * nodemailer's `getSocket` hook (the one its proxy support uses): opens the TCP connection, with Nagle's algorithm off
 * and writes coalesced per turn of the event loop, and nodemailer speaks SMTP over it (upgrading it to TLS first for
 * smtps://, as it does for a proxied socket).
 *
 * Why: nodemailer writes a message's DATA in many small chunks and leaves Nagle on, so a chunk written while an earlier
 * one is unacknowledged waits for the server's delayed ACK (up to 40 ms on Linux); on a pooled connection most of a
 * message's time went to that wait. Connecting, DNS included, fails after `timeoutMs` like nodemailer's own
 * connection timeout; the greeting and socket timeouts stay nodemailer's.
 */
export function connectWithoutNagle(timeoutMs: number): GetSocket {
  return (options, callback) => {
    const port = Number(options.port) || (options.secure ? 465 : 587);
    const socket = connect({ host: options.host || 'localhost', port });
    socket.setNoDelay(true); // applied as the socket connects
    coalesceWrites(socket);
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', settle);
      if (!error) return callback(null, { connection: socket });
      socket.destroy();
      // Not callback(error): nodemailer's pool fails that send but keeps its connection slot busy for good
      // (smtp-pool/pool-resource.js reports a getSocket error to the send alone, and the pool frees a slot only when its
      // connection errs or closes). One refused connect per slot, in one outage or several, and the worker never sent
      // an email again. So nodemailer gets the socket, and its error as it listens: a connection that fails, which it
      // drops, failing the send with it.
      callback(null, { connection: socket });
      // nodemailer listens before the callback returns (pooled, unpooled, verify); were it not to, its greeting timeout would fail it.
      if (socket.listenerCount('error') > 0) socket.emit('error', error);
    };
    const timer = setTimeout(() => settle(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('error', settle);
    socket.once('connect', () => {
      socket.setKeepAlive(true);
      settle(null);
    });
  };
}

/**
 * What is written in one turn of the event loop leaves in one segment: nodemailer writes each command, header block
 * and body chunk separately, ~13 writes a message, each a system call here and a read at the server (bench sink:
 * 18,086 → 9,350 writes of both sides for 1,000 messages). Nothing waits longer than the current turn; end() flushes.
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  socket.write = function (this: Socket, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return (write as (...a: unknown[]) => boolean).apply(socket, args);
  } as Socket['write'];
}
