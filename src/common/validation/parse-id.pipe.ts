import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { InvalidInputException } from 'src/common/problem/problem.exception';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A path id: a UUID of any version (as ParseUUIDPipe checks), else 400 validation-failed naming the parameter. Lower
 * case, as PostgreSQL writes a uuid: some lookups compare an id as text (an object's audit history, an
 * Idempotency-Key's request fingerprint), where an id typed in capitals found no history and made a retry look like
 * another request (422).
 */
@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    const field = metadata.data ?? 'id';
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw new InvalidInputException([{ field, message: `${field} must be a UUID` }], `The path parameter ${field} is not a valid id.`);
    }
    return value.toLowerCase();
  }
}
