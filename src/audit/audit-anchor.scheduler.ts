import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from 'src/audit/audit.service';
import { PeriodicTask, RunsPeriodically } from 'src/common/scheduling/periodic-task';
import { AppConfig } from 'src/config/app-config';

/** Soon after start-up, so that a trail written before an upgrade, or while no worker ran, is anchored at once. */
const FIRST_ANCHOR_AFTER_MS = 5_000;

/** Worker role: signs the audit chain's head every AUDIT_ANCHOR_MINUTES (AuditAnchors). */
@Injectable()
export class AuditAnchorScheduler extends RunsPeriodically {
  private readonly logger = new Logger(AuditAnchorScheduler.name);
  protected readonly task: PeriodicTask;

  constructor(audit: AuditService, config: AppConfig) {
    super();
    this.task = new PeriodicTask(() => this.anchorAndLog(audit), {
      firstAfterMs: FIRST_ANCHOR_AFTER_MS,
      everyMs: config.env.AUDIT_ANCHOR_MINUTES * 60_000,
      onError: (error) => this.logger.warn(`anchoring the audit trail failed (${(error as { code?: string }).code ?? (error as Error).name}); next try on schedule`),
    });
  }

  /**
   * The log line is a copy of the anchor outside the database, wherever the logs are shipped: with it, even anchors
   * removed together with the events after them can be told (the anchor in the log is no longer in the table).
   */
  private async anchorAndLog(audit: AuditService): Promise<void> {
    const anchor = await audit.anchor();
    if (anchor) {
      const { id, eventId, eventHash, anchoredAt, mac } = anchor;
      // Everything the MAC covers, so that the logged copy can be checked against the chain of MACs on its own.
      this.logger.log(`anchored the audit trail: anchor ${id} at ${anchoredAt.toISOString()}, through event ${eventId} (hash ${eventHash}), mac ${mac}`);
    }
  }
}
