import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { toLowerCase } from 'src/applications/dto/field-validators';
import { ROLES, Role } from 'src/common/auth/roles';
import { IsNewPassword } from 'src/common/validation/new-password';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { IsPersonName } from 'src/common/validation/text-fields';
import { Locale, User } from 'src/users/user.entity';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class CreateUserDto {
  @ApiProperty({ example: 'reviewer@fund.example.org' })
  @Transform(trimLower) @IsEmail() @MaxLength(254)
  email: string;

  @ApiProperty({ example: '张伟' })
  @IsPersonName()
  fullName: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({ format: 'uuid', description: 'Required for hospital_finance; refused (400) for other roles' })
  @IsOptional() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;

  @ApiPropertyOptional({ minLength: 10, description: 'Without it an invitation email with a one-time token is sent' })
  @IsOptional() @IsNewPassword()
  password?: string;

  @ApiPropertyOptional({ enum: ['zh-CN', 'en'], default: 'zh-CN' })
  @IsOptional() @IsIn(['zh-CN', 'en'])
  locale?: Locale;
}

/** PATCH /me: what users set for themselves. */
export class UpdateMeDto {
  @ApiProperty({ enum: ['zh-CN', 'en'], description: 'The language of the emails Sprout sends you from now on' })
  @IsIn(['zh-CN', 'en'])
  locale: Locale;
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional() @IsPersonName()
  fullName?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional() @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'The hospital of a hospital_finance user' })
  @IsOptional() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;

  @ApiPropertyOptional({ description: 'Disabling ends every session of the user at once; null is refused (it would read as "enabled")' })
  @ValidateIf((_, value) => value !== undefined) @IsBoolean()
  disabled?: boolean;
}

export class UserQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional() @EmptyAsAbsent() @IsIn(ROLES)
  role?: Role;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() fullName: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) hospitalId: string | null;
  @ApiProperty() emailVerified: boolean;
  @ApiProperty({ enum: ['zh-CN', 'en'] }) locale: Locale;
  @ApiProperty() disabled: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;

  static from(u: User): UserDto {
    return {
      id: u.id,
      email: u.email,
      fullName: u.fullName,
      role: u.role,
      hospitalId: u.hospitalId,
      emailVerified: Boolean(u.emailVerifiedAt),
      locale: u.locale,
      disabled: Boolean(u.disabledAt),
      createdAt: u.createdAt.toISOString(),
    };
  }
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

/** A new invitation was issued and its email queued; links of earlier invitations no longer work. */
export class InvitationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['invited'] }) status: 'invited';
  @ApiProperty({ type: String, format: 'date-time', description: 'When the new link stops working' }) expiresAt: string;
}
