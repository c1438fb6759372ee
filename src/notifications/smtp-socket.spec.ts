import { once } from 'node:events';
import { AddressInfo, connect, createServer, Socket } from 'node:net';
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
      const error = await new Promise<Error | null>((resolve) => getSocket({ host: '127.0.0.1', port: 9 }, (e) => resolve(e)));
      expect(error).toMatchObject({ code: 'ETIMEDOUT', message: 'Connection timeout' });
    } finally {
      connectSpy.mockRestore();
    }
  });
});
