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
    this.task = new PeriodicTask(() => audit.anchor(), {
      firstAfterMs: FIRST_ANCHOR_AFTER_MS,
      everyMs: config.env.AUDIT_ANCHOR_MINUTES * 60_000,
      onError: (error) => this.logger.warn(`anchoring the audit trail failed (${(error as { code?: string }).code ?? (error as Error).name}); next try on schedule`),
    });
  }
}
