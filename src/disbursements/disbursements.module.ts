import { Module } from '@nestjs/common';
import { ApplicationsModule } from 'src/applications/applications.module';
import { AssessmentModule } from 'src/assessment/assessment.module';
import { IdempotencyModule } from 'src/common/idempotency/idempotency.module';
import { ApplicationDisbursementsController } from 'src/disbursements/application-disbursements.controller';
import { DisbursementNotifications } from 'src/disbursements/disbursement-notifications';
import { DisbursementPaymentsService } from 'src/disbursements/disbursement-payments.service';
import { DisbursementsController } from 'src/disbursements/disbursements.controller';
import { DisbursementsService } from 'src/disbursements/disbursements.service';
import { GrantCancellationService } from 'src/disbursements/grant-cancellation.service';
import { GrantProgressService } from 'src/disbursements/grant-progress.service';
import { PaymentFileExportService } from 'src/disbursements/payment-file-export.service';
import { TrancheSchedulerService } from 'src/disbursements/tranche-scheduler.service';
import { FundModule } from 'src/fund/fund.module';

/**
 * Tranches of approved grants: scheduling (called by the review workflow at final approval), payment, return,
 * cancellation, the payment batch export. Reconciliation uses GrantProgressService and the notifications.
 */
@Module({
  imports: [AssessmentModule, ApplicationsModule, FundModule, IdempotencyModule],
  controllers: [DisbursementsController, ApplicationDisbursementsController],
  providers: [
    TrancheSchedulerService,
    DisbursementsService,
    DisbursementPaymentsService,
    GrantCancellationService,
    GrantProgressService,
    DisbursementNotifications,
    PaymentFileExportService,
  ],
  exports: [TrancheSchedulerService, GrantProgressService, DisbursementNotifications, DisbursementsService],
})
export class DisbursementsModule {}
