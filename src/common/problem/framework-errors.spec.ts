import type { Socket } from 'node:net';
import { clientErrorHandler } from 'src/common/problem/framework-errors';

/** A socket that records what is written to it. */
function fakeSocket(): Socket & { written: string } {
  const socket = { written: '', destroyed: false, writable: true, write: (text: string) => ((socket.written += text), true), destroy: () => undefined };
  return socket as unknown as Socket & { written: string };
}

describe("clientErrorHandler: Node's parser refusals as problem+json", () => {
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_HEADER_OVERFLOW', 431],
    ['HPE_INVALID_METHOD', 400],
  ])('%s → %i with a detail (API.md: type, title, status, detail)', (code, status) => {
    const socket = fakeSocket();
    clientErrorHandler(Object.assign(new Error('parse error'), { code }), socket);
    const [head, body] = socket.written.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head).toContain('Content-Type: application/problem+json; charset=utf-8');
    expect(JSON.parse(body)).toEqual({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  });
});
