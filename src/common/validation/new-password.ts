import { applyDecorators } from '@nestjs/common';
import { IsString, MaxLength, MinLength, ValidateBy } from 'class-validator';

/**
 * Passwords people reach for first when told "at least 10 characters", in China and elsewhere: each is tried first by
 * anyone guessing. NIST SP 800-63B asks for such a list rather than rules about character classes.
 */
const COMMON = new Set([
  '0123456789', '1234567890', '0987654321', '9876543210', '12345678910', '1234567890a', 'a123456789', '123456789a',
  'a1234567890', 'abc1234567', 'abcd123456', 'abcdefghij', 'aaaaaaaaaa', 'qwertyuiop', 'qwerty1234', 'qwerty123456',
  '1q2w3e4r5t', '1qaz2wsx3edc', '1qaz2wsx3e', 'zaq12wsxcde', 'asdfghjkl;', 'asdfghjkl1', 'zxcvbnm123', 'password12',
  'password123', 'password1234', 'passw0rd123', 'iloveyou12', 'iloveyou123', 'woaini1314', 'woaini5201314', '5201314520',
  '5201314521', '1314520520', 'qq123456789', 'qwe123456789', 'admin12345', 'admin123456', 'sprout1234', 'sprout123456',
  'welcome123', 'welcome1234', 'changeme123', '1111111111', '123123123123', '1234512345', '1122334455',
]);

/** Why `password` may not be one, or null: the checks beyond its length. */
export function weakPasswordReason(password: string): string | null {
  if (password.trim().length === 0) return 'password must not be only spaces';
  if (new Set(password).size === 1) return 'password must not be one character repeated';
  if (COMMON.has(password.toLowerCase())) return 'password is one of the most common passwords; choose another';
  return null;
}

/** A password being set (registration, reset, invitation, an admin's account): 10–256 characters, not a common one. */
export function IsNewPassword(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MinLength(10, { message: 'password must be at least 10 characters' }),
    MaxLength(256),
    ValidateBy({
      name: 'isNewPassword',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || weakPasswordReason(value) === null,
        defaultMessage: (args) => weakPasswordReason(String(args?.value)) ?? 'password is too weak',
      },
    }),
  );
}
