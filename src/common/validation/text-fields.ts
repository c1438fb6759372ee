import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches } from 'class-validator';
import { MaxChars } from 'src/common/validation/max-chars';

/**
 * What a person's name never holds and a screen does not show: control characters, bidirectional embedding, override
 * and isolate controls (they reorder how the rest is displayed: a spoofed name in the review queue), zero-width
 * spaces and direction marks, word joiners, the byte-order mark, and the Hangul fillers that render as blanks. Zero-width
 * joiners (U+200C, U+200D) stay: some scripts' spellings need them.
 */
const FORMATTING = '\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff\\u115f\\u1160\\u3164\\uffa0';
const UNSHOWN = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${FORMATTING}]`, 'gu');

/** A name as stored: white space (tabs and line breaks too) made one space, what is not shown removed, trimmed. */
export function cleanName(value: string): string {
  return value.replace(/\s+/gu, ' ').replace(UNSHOWN, '').replace(/ {2,}/g, ' ').trim();
}

/**
 * A person's name: cleaned (cleanName), then at least one letter or digit (an "empty" name of invisible characters
 * passed a length check and reached the review queue as a blank) and at most `max` characters.
 */
export const IsPersonName = (max = 100) =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? cleanName(value) : value)),
    IsString(),
    Matches(/[\p{L}\p{N}]/u, { message: ({ property }) => `${property} must contain a letter` }),
    MaxChars(max),
  );

/** Not shown, and not needed in running text: UNSHOWN without the control characters, which free text refuses instead. */
const INVISIBLE_FORMATTING = new RegExp(`[${FORMATTING}]`, 'gu');
/** No control characters other than tab and line breaks (C0, DEL, C1). */
const NO_CONTROL_IN_TEXT = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/u;

/** Free text as stored: invisible formatting (pasted zero-width spaces, direction marks) removed, trimmed. */
export function cleanText(value: string): string {
  return value.replace(INVISIBLE_FORMATTING, '').trim();
}

/**
 * Free text a person reads and that may be emailed (a rejection reason, a question to the family, a note): cleaned
 * (cleanText), line breaks and tabs allowed but no other control character, and at least one letter or digit — a
 * reason of invisible characters passed a length check and reached the family as a blank. `optional`: blank is absent.
 */
export const IsReadableText = (max: number, { optional = false } = {}) =>
  applyDecorators(
    ...(optional ? [IsOptional()] : []),
    Transform(({ value }: { value: unknown }) => (typeof value !== 'string' ? value : optional ? cleanText(value) || undefined : cleanText(value))),
    IsString(),
    Matches(NO_CONTROL_IN_TEXT, { message: ({ property }) => `${property} must not contain control characters other than line breaks and tabs` }),
    Matches(/[\p{L}\p{N}]/u, { message: ({ property }) => `${property} must contain a letter or digit` }),
    MaxChars(max),
  );
