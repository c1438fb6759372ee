import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ApplicationRecords } from 'src/applications/application-records';
import { Application } from 'src/applications/application.entity';
import { FieldCipher } from 'src/common/crypto/field-cipher';
import { AppConfig } from 'src/config/app-config';
import { DocumentRef, FieldHashes, fieldValues, hashFields } from 'src/review/field-changes';

/** Keyed hashes of an application's fields, to tell the reviewer which ones the family changed. */
@Injectable()
export class FieldSnapshots {
  private readonly cipher: FieldCipher;

  constructor(
    private readonly records: ApplicationRecords,
    config: AppConfig,
  ) {
    this.cipher = FieldCipher.fromEnv(config.env);
  }

  /**
   * `app` must have been loaded with its encrypted ids (they are decrypted here, hashed, and dropped). Documents: those
   * a submission took, as staff see them (an answer being prepared is the family's until it is submitted).
   */
  async take(manager: EntityManager, app: Application): Promise<FieldHashes> {
    const documents = (await manager.query(`SELECT id, type FROM application_documents WHERE application_id = $1 AND submitted`, [app.id])) as DocumentRef[];
    // Salted with the application id: equal values in two applications do not hash alike.
    return hashFields(fieldValues(this.records.stateOf(app), documents), (text) => this.cipher.keyedHash(`review-fields:${app.id}:${text}`));
  }
}
