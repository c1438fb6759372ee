import { Logger } from '@nestjs/common';
import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { createRootLogger, PinoNestLogger } from 'src/common/logging/logger';

/** A root logger writing into an array of parsed lines. */
function capture(level = 'info') {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createRootLogger(level, sink), lines, raw: () => JSON.stringify(lines) };
}

/** What a failed UPDATE of an application looks like when PostgreSQL goes away or refuses the row. */
function failedUpdate(): QueryFailedError {
  const driverError = Object.assign(new Error('new row for relation "applications" violates check constraint "applications_household_check"'), {
    code: '23514',
    constraint: 'applications_household_check',
    table: 'applications',
    detail: 'Failing row contains (Zhang Xiaoming, severe_aplastic_anemia, 38000.00).',
    where: 'SQL statement "UPDATE applications SET patient = \'Zhang Xiaoming\'"',
  });
  return new QueryFailedError('UPDATE applications SET patient = $1, medical = $2 WHERE id = $3', ['{"fullName":"Zhang Xiaoming"}', '{"diagnosis":"severe_aplastic_anemia"}', 'id-1'], driverError);
}

describe('logging an error carries what explains it, not the data it was about', () => {
  it('a failed query logs its class, message, code, constraint and table, never its parameters, detail or where', () => {
    const { logger, lines, raw } = capture();
    logger.error({ err: failedUpdate(), reqId: 'r1' }, 'request failed');
    logger.flush();
    expect(lines[0].err).toMatchObject({ type: 'QueryFailedError', code: '23514', constraint: 'applications_household_check', table: 'applications' });
    expect(lines[0].err.message).toContain('violates check constraint');
    expect(raw()).not.toContain('Zhang Xiaoming');
    expect(raw()).not.toContain('severe_aplastic_anemia');
  });

  it('the same through a cause chain and through Nest\'s logger', () => {
    const { logger, lines, raw } = capture();
    const wrapped = new Error('recording failed', { cause: failedUpdate() });
    new PinoNestLogger(logger).error(wrapped);
    logger.error({ err: wrapped }, 'job failed');
    logger.flush();
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.err).toMatchObject({ message: 'recording failed', cause: { type: 'QueryFailedError', code: '23514' } });
    expect(raw()).not.toContain('Zhang Xiaoming');
  });

  it("keeps the text of a line Nest's logger is given as fields and text, with its context", () => {
    const { logger, lines } = capture();
    const nest = new Logger('EmailDeliveryService');
    Logger.overrideLogger(new PinoNestLogger(logger));
    try {
      nest.warn({ notificationId: 'n-1', error: 'ECONNRESET' }, 'email delivery failed');
      logger.flush();
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines[0]).toMatchObject({ msg: 'email delivery failed', notificationId: 'n-1', error: 'ECONNRESET', context: 'EmailDeliveryService' });
  });

  it('an error with a reset token in a property logs without it', () => {
    const { logger, raw } = capture();
    logger.error({ err: Object.assign(new Error('insert failed'), { parameters: ['https://sprout.example.org/reset?token=s3cr3t-t0ken'] }) }, 'x');
    logger.flush();
    expect(raw()).toContain('insert failed');
    expect(raw()).not.toContain('s3cr3t-t0ken');
  });

  it('redacts request headers logged by other code under its own name (multipart logs the busboy options at trace)', () => {
    const { logger, raw } = capture('trace');
    const headers = { authorization: 'Bearer eyJ.family-token.sig', cookie: 'session=abc', 'idempotency-key': 'key-1', 'content-type': 'multipart/form-data' };
    logger.trace({ busboyOptions: { headers, limits: { fileSize: 10 } } }, 'Providing options to busboy');
    logger.debug({ headers }, 'x');
    logger.flush();
    expect(raw()).toContain('multipart/form-data');
    for (const secret of ['family-token', 'session=abc', 'key-1']) expect(raw()).not.toContain(secret);
  });
});
