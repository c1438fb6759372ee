/**
 * A rendering failure that no retry can fix (a missing or malformed context field, a template that throws on its data).
 * Messages name the template and the field, never a context value: they end up in logs and the delivery log.
 */
export class TemplateRenderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateRenderError';
  }
}

/**
 * A template file this process cannot find, or a template name or locale it does not know: an older worker during a
 * rolling upgrade (the new release's api writes emails of a template it added), or a wrong TEMPLATES_DIR. Another
 * worker, or this one after a fix, can render it: retried like an SMTP 4xx, not a reason to kill the email.
 */
export class TemplateNotFoundError extends TemplateRenderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateNotFoundError';
  }
}
