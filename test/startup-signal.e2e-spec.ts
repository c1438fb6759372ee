import { startThrowawayApi } from 'test/support/throwaway-api';
import { freePort } from 'test/support/throwaway-redis';

/**
 * A supervisor stopping a start-up that load made slow (the bench, a deploy rolling back, a test harness timing out).
 * Nest's signal handler used to be installed before app.init(): it closed the app while init was still running,
 * closing Fastify started it, and init then failed with "Fastify instance is already listening. Cannot call
 * setNotFoundHandler" — a start-up failure that was only a stop.
 */
describe('A SIGTERM while the service starts', () => {
  it('ends the process by the signal, without a start-up error', async () => {
    // The child compiles the service with ts-node: on a loaded machine (the whole suite, other work) that alone took > 60 s.
    const env = { APP_ROLE: 'api', THROWAWAY_SIGTERM_DURING_INIT: 'true', LOG_LEVEL: 'warn' };
    const outcome = await startThrowawayApi(env, await freePort(), 240_000).then(
      async (api) => {
        await api.kill();
        return 'became ready';
      },
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/^throwaway api exited \(SIGTERM\) before it was ready/);
    expect(outcome).not.toMatch(/already listening|failed to start|FST_ERR/);
  }, 300_000);
});
