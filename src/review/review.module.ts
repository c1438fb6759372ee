import { Module } from '@nestjs/common';
import { ApplicationsModule } from 'src/applications/applications.module';
import { AssessmentModule } from 'src/assessment/assessment.module';
import { IdempotencyModule } from 'src/common/idempotency/idempotency.module';
import { DisbursementsModule } from 'src/disbursements/disbursements.module';
import { FundModule } from 'src/fund/fund.module';
import { ApprovalService } from 'src/review/approval.service';
import { FieldSnapshots } from 'src/review/field-snapshots';
import { ReviewController } from 'src/review/review.controller';
import { ReviewDecisions } from 'src/review/review-decisions';
import { ReviewGate } from 'src/review/review-gate';
import { ReviewRecordsService } from 'src/review/review-records.service';
import { ReviewService } from 'src/review/review.service';
import { ReviewerConflictsController } from 'src/review/reviewer-conflicts.controller';
import { ReviewerConflictsService } from 'src/review/reviewer-conflicts.service';

/** The review workflow: decisions (four-eyes), information requests, conflicts of interest, application history. */
@Module({
  imports: [ApplicationsModule, AssessmentModule, FundModule, DisbursementsModule, IdempotencyModule],
  controllers: [ReviewController, ReviewerConflictsController],
  providers: [ReviewService, ApprovalService, ReviewGate, ReviewDecisions, ReviewRecordsService, ReviewerConflictsService, FieldSnapshots],
  exports: [ReviewerConflictsService],
})
export class ReviewModule {}
