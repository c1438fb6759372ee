import { ApiProperty } from '@nestjs/swagger';
import { FundBalancesDto } from 'src/fund/dto/fund-balances.dto';

class AccountCheckDto {
  @ApiProperty({ example: 'fund:available' }) code: string;
  @ApiProperty({ description: 'Cached balance, minor units (fen)', type: 'integer' }) balance: number;
  @ApiProperty({ description: 'Sum of the account\'s entries, minor units (fen)', type: 'integer' }) entriesTotal: number;
  @ApiProperty() ok: boolean;
}

class UnbalancedTransactionDto {
  @ApiProperty() id: string;
  @ApiProperty() entries: number;
  @ApiProperty({ description: 'minor units (fen)', type: 'integer' }) total: number;
}

class GrantMismatchDto {
  @ApiProperty() applicationId: string;
  @ApiProperty() account: string;
  @ApiProperty({ description: 'minor units (fen)', type: 'integer' }) balance: number;
  @ApiProperty({ description: 'minor units (fen)', type: 'integer' }) entriesTotal: number;
}

class FundFromEntriesDto extends FundBalancesDto {
  @ApiProperty() identityHolds: boolean;
  @ApiProperty() nonNegative: boolean;
}

export class LedgerVerificationDto {
  @ApiProperty({ description: 'True when every check below holds' }) ok: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) checkedAt: string;
  @ApiProperty() journalTransactions: number;
  @ApiProperty() entries: number;
  @ApiProperty({ type: [AccountCheckDto] }) accounts: AccountCheckDto[];
  @ApiProperty({ type: [UnbalancedTransactionDto], description: 'First 50 journal transactions whose entries do not sum to zero' })
  unbalancedTransactions: UnbalancedTransactionDto[];
  @ApiProperty({ type: [GrantMismatchDto], description: 'First 50 grant balances that differ from their entries' })
  grantMismatches: GrantMismatchDto[];
  @ApiProperty({ type: FundFromEntriesDto }) fromEntries: FundFromEntriesDto;
}
