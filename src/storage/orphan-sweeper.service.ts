import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { PeriodicTask, RunsPeriodically } from 'src/common/scheduling/periodic-task';
import { AppConfig } from 'src/config/app-config';
import { withTryAdvisoryLock } from 'src/database/try-advisory-lock';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import { ObjectStorage } from 'src/storage/object-storage';

/** Held by the worker sweeping; the others skip their pass (727_001 is the migrations' lock). */
export const ORPHAN_SWEEP_LOCK = 727_007;
/** Where DocumentsService stores uploads; only these keys are ever matched against application_documents. */
const DOCUMENTS_PREFIX = 'documents/';
/** Keys looked up per query (through the unique index on storage_key). */
const BATCH = 1000;
const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;
const EVERY_MS = DAY_MS;
/** The first pass waits for start-up's own work, and a worker restarted in a loop does not sweep on every start. */
const FIRST_PASS_AFTER_MS = 10 * 60_000;
/** Beyond reading the request: the row's transaction waiting for a pooled connection and the application's lock. */
const ROW_INSERT_MARGIN_MS = 10 * 60_000;

export type SweepCounts = { listed: number; orphansRemoved: number; unfinishedRemoved: number; notRemoved: number };

export const REFERENCED_KEYS_SQL = `SELECT storage_key FROM application_documents WHERE storage_key = ANY($1::text[])`;

/**
 * How old a file with no row must be to be an orphan rather than an upload whose row is still to come. An upload stores
 * its file, reads the rest of the request, then inserts the row: a client may hold that rest back until
 * HTTP_REQUEST_TIMEOUT_MS ends the request. At least an hour; a day when requests have no time limit (0).
 */
export function orphanGraceMs(requestTimeoutMs: number): number {
  return requestTimeoutMs === 0 ? DAY_MS : Math.max(HOUR_MS, requestTimeoutMs + ROW_INSERT_MARGIN_MS);
}

/**
 * Removes document files that no application_documents row references — their row's removal committed but removing
 * the file failed, or the process died between storing an upload and inserting its row — and the temporary files of
 * uploads cut short by a crash. They are children's ID scans and medical reports that nothing would otherwise ever
 * remove, outside every retention rule (PIPL: data minimisation). Once a day, one worker at a time.
 */
@Injectable()
export class OrphanSweeperService extends RunsPeriodically {
  private readonly logger = new Logger(OrphanSweeperService.name);
  protected readonly task = new PeriodicTask(() => this.sweep(), {
    firstAfterMs: FIRST_PASS_AFTER_MS,
    everyMs: EVERY_MS,
    // Its code only: a file system error's message names the file.
    onError: (error) => this.logger.warn(`sweeping orphaned document files failed (${errorCode(error)}); next try in a day`),
  });

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly storage: ObjectStorage,
    private readonly config: AppConfig,
  ) {
    super();
  }

  /** One pass over the documents in storage; null when another worker is sweeping. */
  async sweep(batchSize = BATCH): Promise<SweepCounts | null> {
    const counts = await withTryAdvisoryLock(this.dataSource, ORPHAN_SWEEP_LOCK, (connection) => this.pass(connection, batchSize));
    if (counts) {
      const { listed, orphansRemoved, unfinishedRemoved, notRemoved } = counts;
      this.logger.log(`swept document storage: ${listed} file(s) listed, ${orphansRemoved} orphaned and ${unfinishedRemoved} unfinished upload(s) removed`);
      if (notRemoved) this.logger.warn(`${notRemoved} orphaned or unfinished file(s) could not be removed; tried again in a day`);
    }
    return counts;
  }

  private async pass(connection: PoolClient, batchSize: number): Promise<SweepCounts> {
    const counts: SweepCounts = { listed: 0, orphansRemoved: 0, unfinishedRemoved: 0, notRemoved: 0 };
    const orphanGrace = orphanGraceMs(this.config.env.HTTP_REQUEST_TIMEOUT_MS);
    // A live upload's temporary file is written to as the bytes arrive: one untouched for a day is abandoned.
    const unfinishedGrace = Math.max(DAY_MS, orphanGrace);
    const startedAt = Date.now();
    let batch: string[] = [];
    for await (const entry of this.storage.list(DOCUMENTS_PREFIX)) {
      if (this.task.stopped) return counts;
      counts.listed++;
      const age = startedAt - entry.modifiedAt.getTime();
      if (entry.kind === 'unfinished') {
        if (age > unfinishedGrace && (await this.removed(() => this.storage.deleteUnfinished(entry.upload), counts))) counts.unfinishedRemoved++;
      } else if (age > orphanGrace) {
        batch.push(entry.key);
        if (batch.length >= batchSize) {
          await this.removeUnreferenced(connection, batch, counts);
          batch = [];
        }
      }
    }
    if (batch.length) await this.removeUnreferenced(connection, batch, counts);
    return counts;
  }

  private async removeUnreferenced(connection: PoolClient, keys: string[], counts: SweepCounts): Promise<void> {
    const { rows } = await connection.query<{ storage_key: string }>(REFERENCED_KEYS_SQL, [keys]);
    const referenced = new Set(rows.map((row) => row.storage_key));
    for (const key of keys) {
      if (!referenced.has(key) && (await this.removed(() => this.storage.delete(key), counts))) counts.orphansRemoved++;
    }
  }

  /** One file that cannot be removed (permissions, a failing disk) does not stop the pass; it is counted. */
  private async removed(remove: () => Promise<void>, counts: SweepCounts): Promise<boolean> {
    try {
      await remove();
      return true;
    } catch {
      counts.notRemoved++;
      return false;
    }
  }
}

function errorCode(error: unknown): string {
  const { name, code } = error as { name?: string; code?: string };
  return [name, code].filter(Boolean).join(' ') || 'unknown';
}
