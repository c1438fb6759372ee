import { Module } from '@nestjs/common';
import { AuditAnchorScheduler } from 'src/audit/audit-anchor.scheduler';

/** Worker role only: the periodic signing of the audit chain's head (AuditService, global, does the work). */
@Module({ providers: [AuditAnchorScheduler] })
export class AuditAnchorModule {}
