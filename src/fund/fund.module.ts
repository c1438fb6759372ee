import { Module } from '@nestjs/common';
import { IdempotencyModule } from 'src/common/idempotency/idempotency.module';
import { ContributionsService } from 'src/fund/contributions.service';
import { FundController } from 'src/fund/fund.controller';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { LedgerVerificationService } from 'src/fund/ledger-verification.service';

/** Import it to move money: review (commit, release), disbursements (pay, return, release). */
@Module({
  imports: [IdempotencyModule],
  controllers: [FundController],
  providers: [FundLedgerService, ContributionsService, LedgerVerificationService],
  exports: [FundLedgerService],
})
export class FundModule {}
