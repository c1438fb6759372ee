import { once } from 'node:events';
import { AddressInfo, connect, createServer, Socket } from 'node:net';
import { createTransport } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { SMTPServer } from 'smtp-server';
import { coalesceWrites, connectWithoutNagle } from 'src/notifications/smtp-socket';

describe('smtp-socket', () => {
  let afterCleanup: () => void = () => undefined;
  afterEach(() => afterCleanup());

  it('sends what is written in one turn of the event loop in one write, in order; end() sends the rest', async () => {
    const received: string[] = [];
    const server = createServer((s) => s.on('data', (chunk) => received.push(chunk.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    afterCleanup = () => {
      socket.destroy();
      server.close();
    };
    await once(socket, 'connect');
    coalesceWrites(socket);
    const writev = jest.spyOn(socket as unknown as { _writev: (...a: unknown[]) => void }, '_writev');
    const write = jest.spyOn(socket as unknown as { _write: (...a: unknown[]) => void }, '_write');
    socket.write('MAIL FROM:<a@b>\r\n');
    socket.write(Buffer.from('RCPT TO:<c@d>\r\n'));
    socket.write('DATA\r\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writev).toHaveBeenCalledTimes(1);
    expect((writev.mock.calls[0][0] as unknown[]).length).toBe(3);
    expect(write).not.toHaveBeenCalled();
    socket.write('QUIT\r\n');
    socket.end();
    await once(socket, 'close');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(received.join('')).toBe('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nQUIT\r\n');
  });

  it('fails a connection nobody answers after the timeout, with a transient code', async () => {
    // A TCP handshake that never completes, without depending on the network: connect() does nothing.
    const getSocket = connectWithoutNagle(50);
    const connectSpy = jest.spyOn(Socket.prototype, 'connect').mockImplementation(function (this: Socket) {
      return this; // never connects, never fails
    });
    try {
      // Handed over as a connection that fails as soon as its user listens (see below why not as the callback's error).
      const error = await new Promise<Error | null>((resolve) =>
        getSocket({ host: '127.0.0.1', port: 9 }, (e, socketOptions) => (e ? resolve(e) : socketOptions!.connection.once('error', resolve))),
      );
      expect(error).toMatchObject({ code: 'ETIMEDOUT', message: 'Connection timeout' });
    } finally {
      connectSpy.mockRestore();
    }
  });

  it("keeps nodemailer's pool sending after connections were refused: each send fails, none hangs, and the server back is used", async () => {
    // A port nobody listens on, then an SMTP server on it. Before, a refused connect kept its pool slot busy for good.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const transport = createTransport({
      host: '127.0.0.1',
      port,
      pool: true,
      maxConnections: 1,
      maxRequeues: 0,
      ignoreTLS: true,
      getSocket: connectWithoutNagle(2_000),
    } as SMTPPool.Options);
    const received: string[] = [];
    const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], onData: (stream, _session, done) => {
      stream.on('data', (chunk: Buffer) => received.push(chunk.toString()));
      stream.on('end', () => done());
    } });
    afterCleanup = () => {
      transport.close();
      server.close();
    };
    const send = async (n: number) => {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), 5_000)));
      const sent = transport.sendMail({ from: 'a@example.org', to: 'b@example.org', subject: `n${n}`, text: 'x' }).then(() => 'sent', (e: Error) => `failed: ${e.message}`);
      try {
        return await Promise.race([sent, hung]);
      } finally {
        clearTimeout(timer);
      }
    };
    for (const n of [1, 2, 3]) expect(await send(n)).toMatch(/^failed: .*ECONNREFUSED/);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect(await send(4)).toBe('sent');
    expect(received.join('')).toContain('Subject: n4');
  });
});
