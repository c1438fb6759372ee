/**
 * A rendering failure that no retry can fix (missing template file, missing or malformed context field).
 * Messages name the template and the field, never a context value: they end up in logs and the delivery log.
 */
export class TemplateRenderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateRenderError';
  }
}
