import { Module } from '@nestjs/common';
import { FundModule } from 'src/fund/fund.module';
import { ReportsController } from 'src/reports/reports.controller';
import { ReportsService } from 'src/reports/reports.service';

@Module({ imports: [FundModule], controllers: [ReportsController], providers: [ReportsService] })
export class ReportsModule {}
