import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Roles } from 'src/common/auth/access.decorators';
import { AuditService } from 'src/audit/audit.service';

class AuditVerificationDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ description: 'Events checked before the first broken link (all of them when ok)' }) checked: number;
  @ApiPropertyOptional({ type: String, nullable: true }) firstBrokenId: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ description: "Signed checkpoints of the chain's head checked (written by the worker every AUDIT_ANCHOR_MINUTES)" }) anchors: number;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The last event the anchors cover; later ones are covered by the next anchor' })
  anchoredThrough: string | null;
}

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('verify')
  @Roles('admin')
  @ApiOperation({
    summary: 'Recompute the tamper-evident hash chain of the audit trail, and check its signed anchors',
    description: "Not ok when an event's content or link does not hold, when an anchor's signature or anchored event does not, or when events have gone unanchored for over twice AUDIT_ANCHOR_MINUTES.",
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  verify(): Promise<AuditVerificationDto> {
    return this.audit.verify();
  }
}
