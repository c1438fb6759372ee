import type { FastifyRequest } from 'fastify';
import { PassThrough, Readable } from 'node:stream';
import { discardRestOfBody, failAtSizeLimit } from 'src/common/http/multipart-file';

describe('failAtSizeLimit', () => {
  // @fastify/multipart listens for errors on every file stream it hands over; so does this one.
  const part = (truncated = false) => Object.assign(new Readable({ read() {} }), { truncated }).on('error', () => undefined);
  const tooLarge = () => new Error('too large');

  it('fails the stream with the given error when the parser reports the limit, so its reader stops at once', async () => {
    const file = part();
    failAtSizeLimit(file, tooLarge);
    file.push(Buffer.from('%PDF-1.4 within the limit'));
    const reading = (async () => {
      for await (const chunk of file) void chunk;
    })();
    file.truncated = true;
    file.emit('limit');
    await expect(reading).rejects.toThrow('too large');
  });

  it('fails at once a stream the parser had already cut before it was handed over', async () => {
    const file = part(true);
    failAtSizeLimit(file, tooLarge);
    expect(file.destroyed).toBe(true);
    expect(file.errored).toMatchObject({ message: 'too large' });
  });

  it('leaves a stream within the limit alone', async () => {
    const file = part();
    failAtSizeLimit(file, tooLarge);
    file.push(Buffer.from('whole'));
    file.push(null);
    const chunks: Buffer[] = [];
    for await (const chunk of file) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('whole');
  });
});

describe('discardRestOfBody', () => {
  const request = () => {
    const raw = Object.assign(new PassThrough(), { complete: false, socket: { destroy: jest.fn() } });
    return { raw, req: { raw } as unknown as FastifyRequest };
  };

  it('reads what the client still sends of a refused body, keeping the connection while it stays small', async () => {
    const { raw, req } = request();
    discardRestOfBody(req, 10);
    raw.write(Buffer.alloc(6));
    raw.end(Buffer.alloc(4));
    await new Promise((resolve) => raw.once('end', resolve));
    expect(raw.socket.destroy).not.toHaveBeenCalled();
  });

  it('closes the connection of a client that goes on sending past the limit', async () => {
    const { raw, req } = request();
    discardRestOfBody(req, 10);
    raw.write(Buffer.alloc(8));
    raw.write(Buffer.alloc(8));
    await new Promise((resolve) => setImmediate(resolve));
    expect(raw.socket.destroy).toHaveBeenCalled();
  });
});
