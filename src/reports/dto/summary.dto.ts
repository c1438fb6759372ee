import { ApiProperty } from '@nestjs/swagger';
import { PeriodQueryDto } from 'src/common/validation/period-query.dto';

export class SummaryQueryDto extends PeriodQueryDto {}

export class MoneyTotalsDto {
  @ApiProperty({ type: 'integer', description: 'Final approvals in the period, minor units (fen)' }) approved: number;
  @ApiProperty({
    type: 'integer',
    description:
      "Payments made in the period (by the day the transfer was made, paidOn), minor units (fen), including any the bank returned later: a return " +
      'does not restate it. Less `returned` over all periods, it equals the payments standing',
  })
  disbursed: number;
  @ApiProperty({ type: 'integer', description: 'Payments the bank returned in the period (by the day the bank returned it, returnedOn; for returns recorded before that field, the day recorded), minor units (fen)' }) returned: number;
  @ApiProperty({ type: 'integer', description: 'Payments confirmed by a bank statement in the period, minor units (fen)' }) reconciled: number;
}

export class HospitalSummaryDto extends MoneyTotalsDto {
  @ApiProperty({ format: 'uuid' }) hospitalId: string;
  @ApiProperty() hospitalCode: string;
  @ApiProperty() hospitalName: string;
  @ApiProperty({ description: 'Applications submitted in the period' }) submitted: number;
  @ApiProperty({ description: 'Grants approved in the period' }) grants: number;
}

export class MonthSummaryDto extends MoneyTotalsDto {
  @ApiProperty({ example: '2026-09' }) month: string;
  @ApiProperty() submitted: number;
  @ApiProperty() grants: number;
}

export class FundPositionDto {
  @ApiProperty({ type: 'integer', description: 'minor units (fen)' }) received: number;
  @ApiProperty({ type: 'integer', description: 'minor units (fen)' }) available: number;
  @ApiProperty({ type: 'integer', description: 'minor units (fen)' }) committed: number;
  @ApiProperty({ type: 'integer', description: 'minor units (fen)' }) disbursed: number;
}

export class SummaryDto {
  @ApiProperty({ type: String, nullable: true }) from: string | null;
  @ApiProperty({ type: String, nullable: true }) to: string | null;
  @ApiProperty({ description: 'Current number of applications in each status (all time)', example: { submitted: 3, approved: 1 } })
  applicationsByStatus: Record<string, number>;
  @ApiProperty({ type: MoneyTotalsDto }) totals: MoneyTotalsDto;
  @ApiProperty({ type: FundPositionDto, description: 'The fund now' }) fund: FundPositionDto;
  @ApiProperty({ type: [HospitalSummaryDto] }) byHospital: HospitalSummaryDto[];
  @ApiProperty({ type: [MonthSummaryDto] }) byMonth: MonthSummaryDto[];
}
