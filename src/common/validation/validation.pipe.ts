import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, InvalidInputException } from 'src/common/problem/problem.exception';

/** Flattens class-validator's tree into `[{field: "patient.nationalId", message}]`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    // A field left out fails every check of its value ("must be a string", "must be shorter than 2000 characters"):
    // what to do about it is one thing. (Optional fields are not checked when left out: this one is required.)
    if (error.value === undefined && error.constraints && !('whitelistValidation' in error.constraints)) return [{ field, message: 'is required' }];
    // One message once: two checks of a field may explain themselves alike (a form, then a real date).
    const messages = new Set(Object.values(error.constraints ?? {}).map((message) => message.replace(/^property (\S+) should not exist$/, 'is not an accepted field')));
    const own = [...messages].map((message) => ({ field, message }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** Unknown fields are refused (400), not silently dropped: a client that sends `status` must learn it was ignored. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // The value only to tell a field left out (flattenValidationErrors); messages never repeat what was sent.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => {
      const flat = flattenValidationErrors(errors);
      return new InvalidInputException(flat.length ? flat : [{ field: '(body)', message: 'must be a JSON object' }]);
    },
  });
}
