import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Roles } from 'src/common/auth/access.decorators';
import { AuditService } from 'src/audit/audit.service';

class AuditVerificationDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ description: 'Events checked before the first broken link (all of them when ok)' }) checked: number;
  @ApiPropertyOptional({ type: String, nullable: true }) firstBrokenId: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) reason: string | null;
}

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Recompute the tamper-evident hash chain of the audit trail' })
  @ApiOkResponse({ type: AuditVerificationDto })
  verify(): Promise<AuditVerificationDto> {
    return this.audit.verify();
  }
}
