import { ApiProperty } from '@nestjs/swagger';

export class FundBalancesDto {
  @ApiProperty({ description: 'Everything donated so far, less reversed contributions, minor units (fen); always available + committed + disbursed', type: 'integer' })
  received: number;
  @ApiProperty({ description: 'Free to commit to new grants, minor units (fen)', type: 'integer' }) available: number;
  @ApiProperty({ description: 'Promised to approved grants and not yet paid, minor units (fen)', type: 'integer' }) committed: number;
  @ApiProperty({ description: 'Paid out to hospitals, minor units (fen)', type: 'integer' }) disbursed: number;
}
