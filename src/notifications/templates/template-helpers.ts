import Handlebars from 'handlebars';
import { formatDate, formatDateTime } from 'src/notifications/templates/format-date';
import { formatYuan } from 'src/notifications/templates/format-yuan';
import { FenAmount, IsoDate } from 'src/notifications/templates/template-contexts';

/**
 * `{{money amount}}` → ¥1,234.56 · `{{date submittedAt}}` → 2026-09-01 · `{{dateTime linkExpiresAt}}` → 2026-09-01 18:30
 * (China time) · `{{#if (eq role "reviewer")}}` · `staff=(ne role "applicant")` · `{{#if (positive paidAmount)}}`.
 * Templates pass whatever the context holds; `money`, `date` and `dateTime` check it and throw on anything else.
 */
export function registerTemplateHelpers(handlebars: typeof Handlebars): void {
  handlebars.registerHelper('money', (amount: FenAmount) => formatYuan(amount));
  handlebars.registerHelper('date', (value: IsoDate) => formatDate(value));
  handlebars.registerHelper('dateTime', (value: IsoDate) => formatDateTime(value));
  handlebars.registerHelper('eq', (left: unknown, right: unknown) => left === right);
  handlebars.registerHelper('ne', (left: unknown, right: unknown) => left !== right);
  // Amounts arrive as numbers or as the strings of bigint columns: "0" is truthy to a plain {{#if}}.
  handlebars.registerHelper('positive', (amount: FenAmount) => Number(amount) > 0);
}
