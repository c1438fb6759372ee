import { Module } from '@nestjs/common';
import { ApplicationReads } from 'src/applications/application-reads';
import { ApplicationRecords } from 'src/applications/application-records';
import { ApplicationTransitionsService } from 'src/applications/application-transitions.service';
import { ApplicationsController } from 'src/applications/applications.controller';
import { ApplicationsService } from 'src/applications/applications.service';
import { DocumentsController } from 'src/applications/documents/documents.controller';
import { DocumentsService } from 'src/applications/documents/documents.service';
import { NationalIdVault } from 'src/applications/national-id-vault';
import { AssessmentModule } from 'src/assessment/assessment.module';
import { PreparedQueries } from 'src/database/prepared-queries';
import { StorageModule } from 'src/storage/storage.module';

@Module({
  imports: [AssessmentModule, StorageModule],
  controllers: [ApplicationsController, DocumentsController],
  providers: [ApplicationsService, ApplicationTransitionsService, ApplicationRecords, ApplicationReads, PreparedQueries, DocumentsService, NationalIdVault],
  exports: [ApplicationsService, ApplicationRecords, NationalIdVault],
})
export class ApplicationsModule {}
