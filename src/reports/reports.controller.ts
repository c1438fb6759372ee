import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from 'src/common/auth/access.decorators';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { SummaryDto, SummaryQueryDto } from 'src/reports/dto/summary.dto';
import { ReportsService } from 'src/reports/reports.service';

@ApiTags('reports')
@Controller('reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('summary')
  @Roles('admin', 'fund_finance')
  @ApiOperation({ summary: 'Applications by status; amounts approved, disbursed and reconciled, by hospital and by month' })
  @ApiOkResponse({ type: SummaryDto })
  @ApiBadRequestResponse({ type: ProblemDto })
  summary(@Query() query: SummaryQueryDto): Promise<SummaryDto> {
    return this.reports.summary(query);
  }
}
