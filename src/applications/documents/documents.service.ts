import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditService } from 'src/audit/audit.service';
import { assertStillSignedIn } from 'src/auth/session-recheck';
import { DOCUMENT_TYPES, DocumentType } from 'src/applications/application-fields';
import { ApplicationRecords } from 'src/applications/application-records';
import { EDITABLE_STATUSES } from 'src/applications/application-status';
import { InvalidStatusTransitionException } from 'src/applications/applications.exceptions';
import { ApplicationDocument } from 'src/applications/documents/application-document.entity';
import { documentFileName } from 'src/applications/documents/document-file-name';
import {
  DocumentNotFoundException,
  DocumentsTooLargeException,
  FileTooLargeException,
  NotMultipartException,
  TooManyDocumentsException,
  UnsupportedFileTypeException,
} from 'src/applications/documents/documents.exceptions';
import { TooManyFieldsException, TooManyFilesException } from 'src/common/http/multipart-problems';
import { DocumentDto } from 'src/applications/documents/dto/document.dto';
import { EmptyUploadError, inspectUpload, UnsupportedUploadError } from 'src/applications/documents/upload-inspector';
import { DetectedFileType } from 'src/applications/documents/file-type';
import { AuthUser } from 'src/common/auth/roles';
import { pageByCreatedAt } from 'src/common/pagination/created-at-page';
import { decodeCursor, Page, PageQueryDto } from 'src/common/pagination/pagination';
import { malformedMultipart } from 'src/common/http/malformed-multipart';
import { discardRestOfBody, failAtSizeLimit } from 'src/common/http/multipart-file';
import { ConflictException, FieldError, InvalidInputException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { ObjectNotFoundError, ObjectStorage } from 'src/storage/object-storage';

/** Documents not yet submitted that an application may hold: each submission takes them to reviewers and makes room. */
export const MAX_DOCUMENTS_PER_APPLICATION = 50;

/**
 * Fields (parts other than files) an upload may carry: `type`, and a few more named back as not accepted. busboy is
 * told one more: at its own limit it destroys the file part being read, which then fails as a body cut short (400
 * "malformed"), while the field past ours reaches the loop before any later part and is refused for what it is.
 */
export const MAX_UPLOAD_FIELDS = 5;

type StoredUpload = { id: string; key: string; contentType: DetectedFileType; fileName: string; size: number; sha256: string };

@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly records: ApplicationRecords,
    private readonly storage: ObjectStorage,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Streams one multipart upload into the store: ownership, status and room for one more document are checked before
   * the body is read and again under the row lock when the document row is written; whatever is refused is removed again.
   */
  async upload(user: AuthUser, applicationId: string, request: FastifyRequest): Promise<DocumentDto> {
    if (!request.isMultipart()) throw new NotMultipartException();
    const app = await this.records.findVisible(this.dataSource.manager, user, applicationId);
    if (!EDITABLE_STATUSES.includes(app.status)) throw new InvalidStatusTransitionException('upload', app.status);
    // Before the body is read, so a family already at its limit is refused without sending the scan: one byte is the
    // smallest document there is (an empty file is refused).
    await this.assertRoomFor(this.dataSource.manager, applicationId, 1);

    let type: unknown;
    const unknownFields: string[] = [];
    const repeated: string[] = [];
    let fields = 0;
    let stored: StoredUpload | undefined;
    try {
      for await (const part of request.parts({ limits: { fields: MAX_UPLOAD_FIELDS + 1 } })) {
        if (part.type === 'field') {
          if (++fields > MAX_UPLOAD_FIELDS) throw new TooManyFieldsException(MAX_UPLOAD_FIELDS, part.fieldname, '"type" is');
          // A second type is refused, not taken over the first: which one the client meant is not ours to guess.
          if (part.fieldname === 'type' && type !== undefined) repeated.push('type');
          else if (part.fieldname === 'type') type = part.value;
          else unknownFields.push(part.fieldname);
        } else if (part.fieldname !== 'file') {
          unknownFields.push(part.fieldname);
          part.file.resume();
        } else {
          stored = await this.store(part);
        }
      }
      const errors: FieldError[] = [
        ...unknownFields.map((field) => ({ field, message: 'is not an accepted field' })),
        ...repeated.map((field) => ({ field, message: 'is given more than once' })),
      ];
      if (type === undefined) errors.push({ field: 'type', message: `is required: one of ${DOCUMENT_TYPES.join(', ')}` });
      else if (!DOCUMENT_TYPES.includes(type as DocumentType)) errors.push({ field: 'type', message: `must be one of ${DOCUMENT_TYPES.join(', ')}` });
      if (!stored) errors.push({ field: 'file', message: 'is required' });
      if (errors.length) throw new InvalidInputException(errors);
      return await this.saveRow(user, applicationId, type as DocumentType, stored!);
    } catch (error) {
      discardRestOfBody(request);
      if (stored) await this.storage.delete(stored.key).catch((e: unknown) => this.logger.error({ err: e }, 'could not remove a refused upload'));
      throw this.asProblem(error);
    }
  }

  /** The family: every document of its application; staff: those a submission took (see open). */
  async list(user: AuthUser, applicationId: string, query: PageQueryDto): Promise<Page<DocumentDto>> {
    await this.records.findReadable(this.dataSource.manager, user, applicationId);
    const after = decodeCursor(query.cursor, 'timestamp');
    const qb = this.dataSource
      .getRepository(ApplicationDocument)
      .createQueryBuilder('d')
      .where('d.application_id = :applicationId', { applicationId })
      .orderBy('d.created_at', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .limit(query.limit + 1);
    if (user.role !== 'applicant') qb.andWhere('d.submitted');
    if (after) qb.andWhere('(d.created_at, d.id) > (:k::timestamptz, :afterId::uuid)', { k: after.k, afterId: after.id });
    return pageByCreatedAt(qb, 'd', query.limit, DocumentDto.from);
  }

  /** The document and its bytes; a download by staff is audited before a byte leaves. */
  async open(user: AuthUser, applicationId: string, documentId: string): Promise<{ document: DocumentDto; content: Readable }> {
    await this.records.findReadable(this.dataSource.manager, user, applicationId);
    const document = await this.dataSource
      .getRepository(ApplicationDocument)
      .createQueryBuilder('d')
      .addSelect('d.storageKey')
      .where('d.id = :documentId AND d.application_id = :applicationId', { documentId, applicationId })
      .getOne();
    // Staff read what a submission took: an answer being prepared is the family's until it is submitted (and one the
    // family removes, or withdraws with the application, was then seen by nobody).
    if (!document || (user.role !== 'applicant' && !document.submitted)) throw new DocumentNotFoundException();
    if (user.role !== 'applicant') {
      await this.dataSource.transaction((tx) =>
        this.audit.record(tx, {
          actor: user,
          action: 'document.downloaded',
          objectType: 'application',
          objectId: applicationId,
          summary: { documentId: document.id, type: document.type },
        }),
      );
    }
    try {
      return { document: DocumentDto.from(document), content: await this.storage.get(document.storageKey) };
    } catch (error) {
      // Deleted by the family between the row read and the file read: gone, as it would be a moment later.
      if (error instanceof ObjectNotFoundError) throw new DocumentNotFoundException();
      throw error;
    }
  }

  /**
   * Removes a document the family attached by mistake, while the application is still in its hands — but not one it
   * submitted: when a reviewer asks for more, what the first round was assessed on stays on the record (the family
   * uploads a corrected document beside it). Only documents added since the last submission can go (not yet
   * `submitted`: the submit records it, see submitDocumentsOf).
   */
  async remove(user: AuthUser, applicationId: string, documentId: string): Promise<void> {
    const storageKey = await this.dataSource.transaction(async (tx) => {
      const app = await this.records.lockVisible(tx, user, applicationId);
      if (!EDITABLE_STATUSES.includes(app.status)) throw new InvalidStatusTransitionException('delete-document', app.status);
      const rows = (await tx.query(
        `DELETE FROM application_documents WHERE id = $1 AND application_id = $2 AND NOT submitted RETURNING storage_key, type`,
        [documentId, applicationId],
      )) as [{ storage_key: string; type: string }[], number];
      const [deleted] = rows[0];
      if (!deleted) {
        const submitted = await tx.query('SELECT 1 FROM application_documents WHERE id = $1 AND application_id = $2', [documentId, applicationId]);
        if (submitted.length) {
          throw new ConflictException('document-submitted', 'This document was part of a submission reviewers assessed, so it is kept; upload a corrected document instead.');
        }
        throw new DocumentNotFoundException();
      }
      await this.audit.record(tx, {
        actor: user,
        action: 'document.deleted',
        objectType: 'application',
        objectId: applicationId,
        summary: { documentId, type: deleted.type },
      });
      return deleted.storage_key;
    });
    // After the commit: a failure here leaves an unreferenced file, never a row without its file.
    await this.storage.delete(storageKey).catch((e: unknown) => this.logger.error({ err: e }, 'could not remove a deleted document'));
  }

  private async store(part: MultipartFile): Promise<StoredUpload> {
    failAtSizeLimit(part.file, () => new FileTooLargeException(this.config.env.UPLOAD_MAX_BYTES));
    const inspected = await inspectUpload(part.file);
    const id = randomUUID();
    const key = `documents/${id.slice(0, 2)}/${id}`;
    try {
      await this.storage.put(key, inspected.content);
    } catch (error) {
      await this.storage.delete(key);
      throw error;
    }
    const { size, sha256 } = inspected.digest();
    return { id, key, contentType: inspected.contentType, fileName: documentFileName(part.filename, inspected.contentType), size, sha256 };
  }

  private async saveRow(user: AuthUser, applicationId: string, type: DocumentType, stored: StoredUpload): Promise<DocumentDto> {
    return this.dataSource.transaction(async (tx) => {
      await assertStillSignedIn(tx, user);
      // Under the lock: a submit or withdrawal that won the race meanwhile refuses this upload.
      const app = await this.records.lockVisible(tx, user, applicationId);
      if (!EDITABLE_STATUSES.includes(app.status)) throw new InvalidStatusTransitionException('upload', app.status);
      await this.assertRoomFor(tx, applicationId, stored.size);
      const row = {
        id: stored.id,
        applicationId,
        type,
        fileName: stored.fileName,
        contentType: stored.contentType,
        size: stored.size,
        sha256: stored.sha256,
        storageKey: stored.key,
        uploadedBy: user.id,
        createdAt: new Date(),
        submitted: false,
      };
      await tx.insert(ApplicationDocument, row as QueryDeepPartialEntity<ApplicationDocument>);
      await this.audit.record(tx, {
        actor: user,
        action: 'document.uploaded',
        objectType: 'application',
        objectId: applicationId,
        summary: { documentId: stored.id, type, size: stored.size, contentType: stored.contentType },
      });
      return DocumentDto.from(row as ApplicationDocument);
    });
  }

  /**
   * 409 when the documents added since the last submission are the most there may be, or `size` more bytes would take
   * them past the budget. Submitted documents do not count: the family may not remove them, so counting them could
   * leave no room for the document a reviewer asked for. Each round of questions gets the whole allowance again.
   */
  private async assertRoomFor(manager: EntityManager, applicationId: string, size: number): Promise<void> {
    const [{ count, bytes }] = (await manager.query(
      `SELECT count(*)::int AS count, coalesce(sum(size), 0)::float8 AS bytes FROM application_documents
        WHERE application_id = $1 AND NOT submitted`,
      [applicationId],
    )) as { count: number; bytes: number }[];
    if (count >= MAX_DOCUMENTS_PER_APPLICATION) throw new TooManyDocumentsException(MAX_DOCUMENTS_PER_APPLICATION);
    const { UPLOAD_MAX_TOTAL_BYTES } = this.config.env;
    if (bytes + size > UPLOAD_MAX_TOTAL_BYTES) throw new DocumentsTooLargeException(UPLOAD_MAX_TOTAL_BYTES);
  }

  private asProblem(error: unknown): unknown {
    if (error instanceof EmptyUploadError) return new InvalidInputException([{ field: 'file', message: 'is empty' }]);
    if (error instanceof UnsupportedUploadError) return new UnsupportedFileTypeException();
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') return new FileTooLargeException(this.config.env.UPLOAD_MAX_BYTES);
    if (code === 'FST_FILES_LIMIT') return new TooManyFilesException('document');
    return malformedMultipart(error) ?? error;
  }
}
