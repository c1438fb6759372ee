import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { DocumentType } from 'src/applications/application-fields';
import type { DetectedFileType } from 'src/applications/documents/file-type';

@Entity('application_documents')
export class ApplicationDocument {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) applicationId: string;
  @Column({ type: 'text' }) type: DocumentType;
  /** Sanitized display name; never used as a path. */
  @Column() fileName: string;
  /** Detected from the content (magic bytes), never taken from the client. */
  @Column({ type: 'text' }) contentType: DetectedFileType;
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) size: number;
  @Column() sha256: string;
  /** Generated key in the object store. */
  @Column({ select: false }) storageKey: string;
  @Column({ type: 'uuid' }) uploadedBy: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  /**
   * Set by the submit that takes the document to reviewers: from then on the family may not remove it, and it no
   * longer counts against the budget of what the family is adding. Never worked out from times written by another
   * process: replicas' clocks differ.
   */
  @Column() submitted: boolean;
}
