import type { ValidationError } from '@nestjs/common';
import { flattenValidationErrors } from 'src/common/validation/validation.pipe';

describe('flattenValidationErrors', () => {
  it('names each field, nested by path, and says a message once however many checks gave it', () => {
    const errors = [
      { property: 'reissue', value: 'soon', constraints: { matches: 'must be a date-time', isIso8601: 'must be a date-time' }, children: [] },
      { property: 'patient', value: {}, children: [{ property: 'nationalId', value: 42, constraints: { isString: 'must be a string', max: 'is too long' }, children: [] }] },
      { property: 'status', value: 'approved', constraints: { whitelistValidation: 'property status should not exist' }, children: [] },
    ] as ValidationError[];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'reissue', message: 'must be a date-time' },
      { field: 'patient.nationalId', message: 'must be a string' },
      { field: 'patient.nationalId', message: 'is too long' },
      { field: 'status', message: 'is not an accepted field' },
    ]);
  });

  it('says a required field left out is required, once, not every check its value would have failed', () => {
    const errors = [
      { property: 'reason', value: undefined, constraints: { isString: 'must be a string', maxLength: 'must be shorter than or equal to 2000 characters', isNotEmpty: 'should not be empty' }, children: [] },
      { property: 'amount', value: null, constraints: { isInt: 'must be an integer number of fen' }, children: [] },
    ] as ValidationError[];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'reason', message: 'is required' },
      { field: 'amount', message: 'must be an integer number of fen' },
    ]);
  });
});
