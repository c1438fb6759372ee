import { Module } from '@nestjs/common';
import { DisbursementsModule } from 'src/disbursements/disbursements.module';
import { EntryMatchingService } from 'src/reconciliation/entry-matching.service';
import { ReconciliationController } from 'src/reconciliation/reconciliation.controller';
import { ReconciliationReportService } from 'src/reconciliation/reconciliation-report.service';
import { StatementImportService } from 'src/reconciliation/statement-import.service';
import { StatementsService } from 'src/reconciliation/statements.service';

/** Hospital finance's bank statements: import and automatic matching, manual match/unmatch, the report. */
@Module({
  imports: [DisbursementsModule],
  controllers: [ReconciliationController],
  providers: [StatementImportService, StatementsService, EntryMatchingService, ReconciliationReportService],
})
export class ReconciliationModule {}
