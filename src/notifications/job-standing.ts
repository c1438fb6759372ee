import type { Queue } from 'bull';

/**
 * Where a row's job stands: `live` (waiting, paused, delayed, running or locked), `finished` (kept in Bull's failed or
 * completed set, or in no list at all: lost) or `absent` (no job with that id).
 *
 * Read in one script, not with Job.getState(), which asks Redis list by list: a worker takes a job with BRPOPLPUSH
 * (wait → active) and locks it with its next command, so a job taken between getState's "active?" and "waiting?"
 * reads as in no list, and, not yet locked, Job.remove() succeeds. Re-added, it ran twice: CI saw one email of 300
 * reach both servers of the two-workers test when the second worker's start-up re-drive met its own first fetch.
 */
const STANDING_SCRIPT = `
local id = ARGV[1]
if redis.call("EXISTS", KEYS[5]) == 0 then return "absent" end
if redis.call("EXISTS", KEYS[5] .. ":lock") == 1 then return "live" end
for i = 1, 3 do
  if redis.call("LPOS", KEYS[i], id) then return "live" end
end
if redis.call("ZSCORE", KEYS[4], id) then return "live" end
return "finished"`;
const KEYS = ['wait', 'active', 'paused', 'delayed'] as const;

export type JobStanding = 'live' | 'finished' | 'absent';

type ScriptedClient = { sproutJobStanding?: (...args: (string | number)[]) => Promise<JobStanding> };

export async function jobStanding(queue: Queue, id: string): Promise<JobStanding> {
  const client = queue.client as unknown as ScriptedClient & Queue['client'];
  if (!client.sproutJobStanding) client.defineCommand('sproutJobStanding', { numberOfKeys: KEYS.length + 1, lua: STANDING_SCRIPT });
  const toKey = (name: string) => (queue as unknown as { toKey(name: string): string }).toKey(name);
  return client.sproutJobStanding!(...KEYS.map(toKey), toKey(id), id);
}
