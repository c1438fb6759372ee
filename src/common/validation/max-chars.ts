import { buildMessage, ValidateBy } from 'class-validator';

/**
 * At most `max` characters as PostgreSQL's length() counts them: code points. class-validator's MaxLength does not
 * count emoji variation selectors (U+FE0E, U+FE0F), so a reason it let through with a few "❤️" near the limit broke the
 * column's length CHECK: a 500 instead of the 400 naming the field.
 */
export const MaxChars = (max: number) =>
  ValidateBy({
    name: 'maxChars',
    constraints: [max],
    validator: {
      validate: (value: unknown) => typeof value === 'string' && [...value].length <= max,
      defaultMessage: buildMessage((each) => `${each}$property must be shorter than or equal to $constraint1 characters`),
    },
  });
