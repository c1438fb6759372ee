import { ArgumentMetadata, Injectable, ParseUUIDPipe } from '@nestjs/common';

/**
 * ParseUUIDPipe, then lower case, as PostgreSQL writes a uuid: some lookups compare an id as text (an object's
 * audit history, an Idempotency-Key's request fingerprint), where an id typed in capitals found no history and made
 * a retry look like another request (422).
 */
@Injectable()
export class ParseIdPipe extends ParseUUIDPipe {
  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await super.transform(value, metadata)).toLowerCase();
  }
}
