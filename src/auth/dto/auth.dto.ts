import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsPhone } from 'src/applications/dto/field-validators';
import { IsNewPassword } from 'src/common/validation/new-password';
import { IsPersonName } from 'src/common/validation/text-fields';
import type { Locale } from 'src/users/user.entity';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class RegisterDto {
  @ApiProperty({ example: 'li.mei@example.org' })
  @Transform(trimLower) @IsEmail() @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: 10, maxLength: 256 })
  @IsNewPassword()
  password: string;

  @ApiProperty({ example: '李梅' })
  @IsPersonName()
  fullName: string;

  @ApiPropertyOptional({ example: '13800000000', description: 'Mainland mobile (optionally +86) or landline with area code; spaces and dashes are dropped' })
  @IsOptional() @IsPhone()
  phone?: string;

  @ApiPropertyOptional({ enum: ['zh-CN', 'en'], default: 'zh-CN' })
  @IsOptional() @IsIn(['zh-CN', 'en'])
  locale?: Locale;
}

export class RegisteredDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: ['applicant'] }) role: 'applicant';
  @ApiProperty({ example: false }) emailVerified: boolean;
}

export class TokenDto {
  @ApiProperty({ description: 'The one-time token from the email' })
  @IsString() @MinLength(20) @MaxLength(200)
  token: string;
}

export class AcceptInviteDto extends TokenDto {
  @ApiProperty({ minLength: 10, maxLength: 256 })
  @IsNewPassword()
  password: string;
}

export class ForgotPasswordDto {
  @ApiProperty({ example: 'li.mei@example.org' })
  @Transform(trimLower) @IsString() @MaxLength(254)
  email: string;
}

export class ResetPasswordDto extends TokenDto {
  @ApiProperty({ minLength: 10, maxLength: 256 })
  @IsNewPassword()
  password: string;
}

export class LoginDto {
  @ApiProperty({ example: 'li.mei@example.org' })
  @Transform(trimLower) @IsString() @MaxLength(254)
  email: string;

  @ApiProperty()
  @IsString() @MaxLength(256)
  password: string;
}

export class RefreshDto {
  @ApiProperty()
  @IsString() @MaxLength(200)
  refreshToken: string;
}

export class TokenPairDto {
  @ApiProperty() accessToken: string;
  @ApiProperty() refreshToken: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 }) expiresIn: number;
}

export class OkDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
}

export class AcceptedDto {
  @ApiProperty({ example: 'accepted', description: 'The same for known and unknown addresses' }) status: 'accepted';
}
