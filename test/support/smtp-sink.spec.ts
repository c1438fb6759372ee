import { connect, Socket } from 'node:net';
import { SmtpSink } from 'test/support/smtp-sink';

/** Sends SMTP commands one by one, each after the server's answer to the last. */
async function converse(socket: Socket, lines: string[]): Promise<void> {
  const answers: string[] = [];
  socket.on('data', (chunk) => answers.push(chunk.toString()));
  const answered = async (count: number) => {
    while (answers.length < count) await new Promise((r) => setTimeout(r, 5));
  };
  await answered(1); // the greeting
  for (const [i, line] of lines.entries()) {
    socket.write(`${line}\r\n`);
    await answered(i + 2);
  }
}

describe('SmtpSink', () => {
  let sink: SmtpSink;
  beforeEach(async () => {
    sink = await new SmtpSink().start();
  });
  afterEach(() => sink.stop());

  // The service's socket timeout or shutdown can drop a connection mid-message; the sink used to let the parse's
  // rejection escape, which failed whichever test happened to be running.
  it('records a message the client cut short, as an attempt and nothing received', async () => {
    const socket = connect(sink.port, '127.0.0.1');
    await converse(socket, ['EHLO test', 'MAIL FROM:<a@sprout.test>', 'RCPT TO:<Family@Example.test>', 'DATA']);
    socket.write('Subject: half a message\r\n\r\nthe body begins');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();

    const attempt = await sink.waitForAttempt((a) => a.reply === 'cut-short', 2_000);
    expect(attempt.to).toEqual(['family@example.test']);
    expect(sink.received).toEqual([]);
  });
});
