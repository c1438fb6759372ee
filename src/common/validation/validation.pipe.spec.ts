import type { ValidationError } from '@nestjs/common';
import { flattenValidationErrors } from 'src/common/validation/validation.pipe';

describe('flattenValidationErrors', () => {
  it('names each field, nested by path, and says a message once however many checks gave it', () => {
    const errors = [
      { property: 'reissue', constraints: { matches: 'must be a date-time', isIso8601: 'must be a date-time' }, children: [] },
      { property: 'patient', children: [{ property: 'nationalId', constraints: { isString: 'must be a string', max: 'is too long' }, children: [] }] },
      { property: 'status', constraints: { whitelistValidation: 'property status should not exist' }, children: [] },
    ] as ValidationError[];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'reissue', message: 'must be a date-time' },
      { field: 'patient.nationalId', message: 'must be a string' },
      { field: 'patient.nationalId', message: 'is too long' },
      { field: 'status', message: 'is not an accepted field' },
    ]);
  });
});
