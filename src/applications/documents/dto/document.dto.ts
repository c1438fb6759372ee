import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DOCUMENT_TYPES } from 'src/applications/application-fields';
import type { DocumentType } from 'src/applications/application-fields';
import { ApplicationDocument } from 'src/applications/documents/application-document.entity';

export class DocumentUploadDto {
  @ApiProperty({ enum: DOCUMENT_TYPES }) type: DocumentType;
  @ApiProperty({ type: 'string', format: 'binary', description: 'PDF, JPEG or PNG (by content), at most UPLOAD_MAX_BYTES (10 MiB)' })
  file: unknown;
}

export class DocumentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: DOCUMENT_TYPES }) type: DocumentType;
  @ApiProperty({ example: 'diagnosis.pdf', description: 'Sanitized: no path, no control characters' }) fileName: string;
  @ApiProperty({ enum: ['application/pdf', 'image/jpeg', 'image/png'], description: 'Detected from the content' }) contentType: string;
  @ApiProperty({ description: 'Bytes' }) size: number;
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }) sha256: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiPropertyOptional({ description: 'Part of a submission reviewers assessed: the family can no longer remove it, and it no longer counts against the budget for documents being added' })
  submitted: boolean;

  static from(d: ApplicationDocument): DocumentDto {
    return {
      id: d.id,
      type: d.type,
      fileName: d.fileName,
      contentType: d.contentType,
      size: d.size,
      sha256: d.sha256,
      createdAt: d.createdAt.toISOString(),
      submitted: d.submitted,
    };
  }
}

export class DocumentPageDto {
  @ApiProperty({ type: [DocumentDto] }) items: DocumentDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
