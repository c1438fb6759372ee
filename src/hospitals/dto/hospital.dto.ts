import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import type { AuthUser } from 'src/common/auth/roles';
import { seesBankAccount } from 'src/hospitals/bank-account-visibility';
import { Transform, Type } from 'class-transformer';
import { IsDefined, IsObject, IsString, Matches, ValidateNested } from 'class-validator';
import { IsPersonName } from 'src/common/validation/text-fields';
import { Hospital } from 'src/hospitals/hospital.entity';

// Codes are stored in capitals (hospitals_code_key is case-sensitive): "scmc" is SCMC, and collides with it.
const toCode = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value);
/** Spaces and dashes people copy from a bank's letter ("6222 0212-3456"). */
const toAccountNumber = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.replace(/[\s-]+/g, '') : value);

export class BankAccountDto {
  @ApiProperty({ example: '中国工商银行上海分行' })
  @IsPersonName(200)
  bankName: string;

  @ApiProperty({ example: '上海儿童医学中心' })
  @IsPersonName(200)
  accountName: string;

  @ApiProperty({ example: '1001234509876543210', description: 'Spaces and dashes are dropped' })
  @Transform(toAccountNumber)
  @IsString() @Matches(/^[A-Z0-9]{8,34}$/, { message: 'accountNumber must be 8–34 digits or capital letters' })
  accountNumber: string;
}

export class CreateHospitalDto {
  // Names reach families' emails, payment files and the review queue: no control or reordering characters, and a letter.
  @ApiProperty({ example: 'Shanghai Children\'s Medical Center' })
  @IsPersonName(200)
  name: string;

  @ApiProperty({ example: 'SCMC', description: 'Short unique code: capitals, digits, - or _ (letters are upper-cased)' })
  @Transform(toCode) @IsString() @Matches(/^[A-Z0-9][A-Z0-9_-]{1,31}$/, { message: 'code must be 2–32 capitals, digits, - or _' })
  code: string;

  @ApiProperty({ type: BankAccountDto })
  @IsDefined() @IsObject() @ValidateNested() @Type(() => BankAccountDto)
  bankAccount: BankAccountDto;
}

export class UpdateHospitalDto extends PartialType(CreateHospitalDto) {}

export class HospitalDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() code: string;
  @ApiProperty({ type: BankAccountDto }) bankAccount: BankAccountDto;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;

  static from(h: Hospital): HospitalDto {
    return {
      id: h.id,
      name: h.name,
      code: h.code,
      bankAccount: { bankName: h.bankName, accountName: h.bankAccountName, accountNumber: h.bankAccountNumber },
      createdAt: h.createdAt.toISOString(),
    };
  }
}

/** GET /hospitals and /hospitals/:id: the hospital, with its bank account only for a reader whose work needs it. */
export class HospitalViewDto extends OmitType(HospitalDto, ['bankAccount'] as const) {
  @ApiPropertyOptional({
    type: BankAccountDto,
    description: "Where the fund pays: for admins and fund finance, and for a hospital's own finance office; left out for families and reviewers, who choose and read hospitals by name",
  })
  bankAccount?: BankAccountDto;

  static for(h: Hospital, reader: AuthUser): HospitalViewDto {
    const { bankAccount, ...rest } = HospitalDto.from(h);
    return seesBankAccount(reader, h.id) ? { ...rest, bankAccount } : rest;
  }
}

/** PATCH /hospitals/:id: the hospital, and the scheduled money its edit leaves on other accounts. */
export class UpdatedHospitalDto extends HospitalDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description:
      "Scheduled tranches of this hospital that pay into another account than the one it now has: an edit redirects no scheduled money. " +
      'Fund finance moves each (POST /disbursements/{id}/repoint; GET /disbursements?payeeOutdated=true lists them), and the payment file refuses them until then.',
  })
  scheduledTranchesOnOtherAccounts: number;
}

export class HospitalPageDto {
  @ApiProperty({ type: [HospitalViewDto] }) items: HospitalViewDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
