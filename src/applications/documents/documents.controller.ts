import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { attachmentDisposition } from 'src/applications/documents/document-file-name';
import { DocumentsService } from 'src/applications/documents/documents.service';
import { DocumentDto, DocumentPageDto, DocumentUploadDto } from 'src/applications/documents/dto/document.dto';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('applications')
@Controller('applications/:id/documents')
@ApiNotFoundResponse({ description: 'No such application or document, or not yours', type: ProblemDto })
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Post()
  @Roles('applicant')
  @ApiOperation({ summary: 'Attach a document to your application (draft or info_requested)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: DocumentUploadDto })
  @ApiCreatedResponse({ type: DocumentDto })
  @ApiConflictResponse({
    description: 'The application is not editable in its status, or its documents not yet submitted are too many or too large (too-many-documents, documents-too-large)',
    type: ProblemDto,
  })
  @ApiBadRequestResponse({
    description: 'An empty file, no file, a missing or unknown document type, fields other than type and file, a malformed multipart body, or an id that is not a UUID (validation-failed)',
    type: ProblemDto,
  })
  @ApiPayloadTooLargeResponse({ description: 'Larger than UPLOAD_MAX_BYTES (10 MiB) (file-too-large), or more than one file (too-many-files)', type: ProblemDto })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not a PDF, JPEG or PNG by content', type: ProblemDto })
  upload(@Param('id', ParseIdPipe) id: string, @Req() request: FastifyRequest, @CurrentUser() user: AuthUser): Promise<DocumentDto> {
    return this.documents.upload(user, id, request);
  }

  @Get()
  @Roles('applicant', 'reviewer', 'admin')
  @ApiOperation({ summary: 'The documents of an application, oldest first' })
  @ApiOkResponse({ type: DocumentPageDto })
  list(@Param('id', ParseIdPipe) id: string, @Query() query: PageQueryDto, @CurrentUser() user: AuthUser): Promise<DocumentPageDto> {
    return this.documents.list(user, id, query);
  }

  @Get(':docId/content')
  @Roles('applicant', 'reviewer', 'admin')
  @ApiOperation({ summary: 'Download a document (always as an attachment); downloads by staff are audited' })
  @ApiProduces('application/pdf', 'image/jpeg', 'image/png')
  @ApiOkResponse({ description: 'The file', schema: { type: 'string', format: 'binary' } })
  async content(
    @Param('id', ParseIdPipe) id: string,
    @Param('docId', ParseIdPipe) docId: string,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const { document, content } = await this.documents.open(user, id, docId);
    reply
      .header('Content-Type', document.contentType)
      .header('Content-Disposition', attachmentDisposition(document.fileName))
      .header('Content-Length', String(document.size))
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'private, no-store')
      .header('Content-Security-Policy', "default-src 'none'; sandbox");
    return new StreamableFile(content);
  }

  @Delete(':docId')
  @HttpCode(204)
  @Roles('applicant')
  @ApiOperation({ summary: 'Remove a document from your application (draft or info_requested; once submitted, only documents added since)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiConflictResponse({ description: 'The application is not editable in its status, or the document was submitted (document-submitted)', type: ProblemDto })
  async remove(@Param('id', ParseIdPipe) id: string, @Param('docId', ParseIdPipe) docId: string, @CurrentUser() user: AuthUser): Promise<void> {
    await this.documents.remove(user, id, docId);
  }
}
