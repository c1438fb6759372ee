import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import juice from 'juice';
import { LOCALES, Locale, TEMPLATE_NAMES, TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';
import { TEMPLATE_FIELDS } from 'src/notifications/templates/template-fields';
import { registerTemplateHelpers } from 'src/notifications/templates/template-helpers';
import { TemplateRenderError } from 'src/notifications/templates/template-render.error';
import { subjectFromHtml } from 'src/notifications/templates/html-subject';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

type Partials = Record<string, Handlebars.TemplateDelegate>;

interface CompiledPart {
  template: Handlebars.TemplateDelegate;
  partials: Partials;
}

interface CompiledEmail {
  html: CompiledPart;
  text: CompiledPart;
}

const HTML_OPTIONS: CompileOptions = { strict: true };
// The text part is not HTML: escaping would turn a reviewer's "R&D" into "R&amp;D".
const TEXT_OPTIONS: CompileOptions = { strict: true, noEscape: true };

/**
 * Renders `templates/<locale>/<name>.hbs` (HTML, its `<title>` is the subject) and `<name>.text.hbs`, with the
 * locale's `partials/*.hbs` (`partials/layout.text.hbs` is `{{> layout.text}}`). Partials are handed over per
 * render, so the locales' `layout` partials cannot collide, and each is compiled twice, escaping for the HTML
 * part and not for the text part. Helpers live in a private Handlebars environment, not the global one.
 * Compiled templates are cached for the life of the renderer.
 */
export class TemplateRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly partials = new Map<Locale, { html: Partials; text: Partials }>();
  private readonly compiled = new Map<string, CompiledEmail>();

  constructor(private readonly templatesDir: string) {
    registerTemplateHelpers(this.handlebars);
  }

  render<N extends TemplateName>(name: N, locale: Locale, context: TemplateContexts[N]): RenderedEmail {
    const email = this.compiledEmail(name, locale);
    const data = prepareContext(name, locale, context);
    try {
      const html = juice(renderPart(email.html, data));
      const subject = subjectFromHtml(html);
      if (!subject) throw new Error('the HTML has no non-empty <title> to use as the subject');
      return { subject, html, text: tidyText(renderPart(email.text, data)) };
    } catch (error) {
      throw new TemplateRenderError(`Rendering email template ${locale}/${name} failed: ${messageOf(error)}`, { cause: error });
    }
  }

  private compiledEmail(name: TemplateName, locale: Locale): CompiledEmail {
    const key = `${locale}/${name}`;
    let email = this.compiled.get(key);
    if (!email) {
      const htmlFile = join(this.templatesDir, locale, `${name}.hbs`);
      if (!TEMPLATE_NAMES.includes(name) || !LOCALES.includes(locale)) throw notFound(htmlFile);
      const htmlSource = readTemplate(htmlFile);
      const textSource = readTemplate(join(this.templatesDir, locale, `${name}.text.hbs`));
      const partials = this.localePartials(locale);
      email = {
        html: { template: this.handlebars.compile(htmlSource, HTML_OPTIONS), partials: partials.html },
        text: { template: this.handlebars.compile(textSource, TEXT_OPTIONS), partials: partials.text },
      };
      this.compiled.set(key, email);
    }
    return email;
  }

  private localePartials(locale: Locale): { html: Partials; text: Partials } {
    let partials = this.partials.get(locale);
    if (!partials) {
      partials = { html: {}, text: {} };
      const dir = join(this.templatesDir, locale, 'partials');
      for (const file of listTemplates(dir)) {
        const source = readTemplate(join(dir, file));
        const name = file.slice(0, -'.hbs'.length);
        partials.html[name] = this.handlebars.compile(source, HTML_OPTIONS);
        partials.text[name] = this.handlebars.compile(source, TEXT_OPTIONS);
      }
      this.partials.set(locale, partials);
    }
    return partials;
  }
}

function renderPart(part: CompiledPart, data: Record<string, unknown>): string {
  return part.template(data, { partials: part.partials });
}

/** Checks required fields (strict mode does not see helper arguments) and sets absent optional ones to null. */
function prepareContext(name: TemplateName, locale: Locale, context: unknown): Record<string, unknown> {
  if (typeof context !== 'object' || context === null) {
    throw new TemplateRenderError(`Email template ${locale}/${name} needs a context object`);
  }
  const data: Record<string, unknown> = { ...context };
  const missing: string[] = [];
  for (const [field, presence] of Object.entries(TEMPLATE_FIELDS[name])) {
    if (data[field] !== undefined && data[field] !== null) continue;
    if (presence === 'required') missing.push(field);
    else data[field] = null;
  }
  if (missing.length > 0) {
    throw new TemplateRenderError(`Email template ${locale}/${name} is missing context field(s): ${missing.join(', ')}`);
  }
  return data;
}

function listTemplates(dir: string): string[] {
  try {
    return readdirSync(dir).filter((file) => file.endsWith('.hbs'));
  } catch (error) {
    throw notFound(dir, error);
  }
}

function readTemplate(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw notFound(file, error);
  }
}

function notFound(file: string, cause?: unknown): TemplateRenderError {
  return new TemplateRenderError(`Email template file not found: ${file}`, { cause });
}

/** Drops trailing spaces and runs of blank lines that optional sections leave behind. */
function tidyText(text: string): string {
  return `${text.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
