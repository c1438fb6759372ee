import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type juiceModule from 'juice';
import { LOCALES, Locale, TEMPLATE_NAMES, TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';
import { TEMPLATE_FIELDS } from 'src/notifications/templates/template-fields';
import { registerTemplateHelpers } from 'src/notifications/templates/template-helpers';
import { TemplateNotFoundError, TemplateRenderError } from 'src/notifications/templates/template-render.error';
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
  /** The CSS is already in the compiled HTML; otherwise it is inlined into each rendered message. */
  inlined: boolean;
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
 *
 * The CSS is inlined once, into the HTML sources before they are compiled, not into every rendered message (juice
 * parsing and serializing each message cost ~2 ms of CPU per email): the locale's layout (which holds the <style>)
 * is inlined as a document, each template and other partial as a fragment with the layout's CSS. The result is the
 * same as inlining the rendered message because nothing a context supplies can add an element: values are escaped
 * (no `<`), there is no triple-stash and helpers return plain text, so every element, class and ancestor a CSS
 * rule can match is in the sources. A test renders every template both ways and compares the bytes.
 */
export class TemplateRenderer {
  private readonly handlebars = Handlebars.create();
  private readonly partials = new Map<Locale, LocalePartials>();
  private readonly compiled = new Map<string, CompiledEmail>();

  /**
   * `inlineCss: 'per-message'` is the old way (juice on every rendered message), kept only so that a test can prove
   * the default ('compiled') renders the same bytes.
   */
  constructor(
    private readonly templatesDir: string,
    private readonly options: RendererOptions = { inlineCss: 'compiled' },
  ) {
    registerTemplateHelpers(this.handlebars);
  }

  render<N extends TemplateName>(name: N, locale: Locale, context: TemplateContexts[N]): RenderedEmail {
    const email = this.compiledEmail(name, locale);
    const data = prepareContext(name, locale, context);
    const globals = { fundContact: this.options.fundContact ?? '' };
    try {
      const rendered = renderPart(email.html, data, globals);
      const html = email.html.inlined ? rendered : juice()(rendered);
      const subject = subjectFromHtml(html);
      if (!subject) throw new Error('the HTML has no non-empty <title> to use as the subject');
      return { subject, html, text: tidyText(renderPart(email.text, data, globals)) };
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
      // Only a template inside the layout (and with no <style> of its own) is inlined ahead; any other is inlined
      // per message, as before, with partials that are not inlined either.
      const ahead = this.options.inlineCss === 'compiled' && partials.inlinable && USES_LAYOUT.test(htmlSource) && !STYLE_TAG.test(htmlSource);
      email = {
        html: ahead
          ? { template: this.handlebars.compile(inlineFragment(htmlSource, partials.css, htmlFile), HTML_OPTIONS), partials: partials.inlined, inlined: true }
          : { template: this.handlebars.compile(htmlSource, HTML_OPTIONS), partials: partials.html, inlined: false },
        text: { template: this.handlebars.compile(textSource, TEXT_OPTIONS), partials: partials.text, inlined: false },
      };
      this.compiled.set(key, email);
    }
    return email;
  }

  private localePartials(locale: Locale): LocalePartials {
    let partials = this.partials.get(locale);
    if (!partials) {
      const dir = join(this.templatesDir, locale, 'partials');
      const sources = new Map(listTemplates(dir).map((file) => [file.slice(0, -'.hbs'.length), readTemplate(join(dir, file))] as const));
      const css = [...(sources.get(LAYOUT) ?? '').matchAll(STYLE_BLOCK)].map((m) => m[1]).join('\n');
      // A <style> anywhere but in the layout would add CSS that depends on which partials a message uses.
      const inlinable = [...sources].every(([name, source]) => name === LAYOUT || !STYLE_TAG.test(source));
      partials = { html: {}, inlined: {}, text: {}, css, inlinable };
      for (const [name, source] of sources) {
        const file = join(dir, `${name}.hbs`);
        partials.html[name] = this.handlebars.compile(source, HTML_OPTIONS);
        partials.text[name] = this.handlebars.compile(source, TEXT_OPTIONS);
        if (this.options.inlineCss === 'compiled' && inlinable) {
          const inlined = name === LAYOUT ? inlineDocument(source, file) : inlineFragment(source, css, file);
          partials.inlined[name] = inlined === source ? partials.html[name] : this.handlebars.compile(inlined, HTML_OPTIONS);
        }
      }
      this.partials.set(locale, partials);
    }
    return partials;
  }
}

/**
 * `inlineCss: 'per-message'` is the old way (see the constructor); `fundContact`: how families reach the fund office
 * (FUND_CONTACT), shown in every email's footer where it says to contact the office.
 */
export type RendererOptions = { inlineCss: 'compiled' | 'per-message'; fundContact?: string };

/** `html`: as written; `inlined`: with the layout's CSS inlined, for templates inside the layout. */
type LocalePartials = { html: Partials; inlined: Partials; text: Partials; css: string; inlinable: boolean };

/** The partial holding the document and its <style>. */
const LAYOUT = 'layout';
const STYLE_BLOCK = /<style[^>]*>([\s\S]*?)<\/style>/gi;
const STYLE_TAG = /<style\b/i;
const USES_LAYOUT = new RegExp(`\\{\\{~?#?>\\s*${LAYOUT}(?=[\\s}~])`);

/**
 * juice (with cheerio) takes ~0.5 s to load and only the worker renders email: loaded on first use, it keeps the api
 * role's cold start shorter.
 */
let loadedJuice: typeof juiceModule | undefined;
function juice(): typeof juiceModule {
  return (loadedJuice ??= require('juice') as typeof juiceModule); // eslint-disable-line @typescript-eslint/no-require-imports
}

/** juice() applies these defaults to a document; inlineContent() does not unless told. */
const FRAGMENT_OPTIONS: juiceModule.Options = {
  applyWidthAttributes: true,
  applyHeightAttributes: true,
  applyAttributesTableElements: true,
  resolveCSSVariables: true,
  inlineDuplicateProperties: false,
  insertPreservedExtraCss: false,
};

/** The layout: a whole document whose <style> juice inlines and removes (Handlebars expressions are left alone). */
function inlineDocument(source: string, file: string): string {
  return checkedInline(() => juice()(source), file);
}

/** A template or partial: the elements it adds to the layout, given the layout's CSS. */
function inlineFragment(source: string, css: string, file: string): string {
  if (!css || !/<[a-z]/i.test(source)) return source;
  return checkedInline(() => juice().inlineContent(source, css, FRAGMENT_OPTIONS), file);
}

function checkedInline(inline: () => string, file: string): string {
  try {
    return inline();
  } catch (error) {
    throw new TemplateRenderError(`Inlining the CSS of email template ${file} failed: ${messageOf(error)}`, { cause: error });
  }
}

/** What every message may use as `@name`, beside its own context: the fund office's contact (FUND_CONTACT), in the footer. */
type Globals = { fundContact: string };

function renderPart(part: CompiledPart, data: Record<string, unknown>, globals: Globals): string {
  return part.template(data, { partials: part.partials, data: globals });
}

/** Checks required fields (strict mode does not see helper arguments) and sets absent optional ones to null. */
function prepareContext(name: TemplateName, locale: Locale, context: unknown): Record<string, unknown> {
  if (typeof context !== 'object' || context === null) {
    throw new TemplateRenderError(`Email template ${locale}/${name} needs a context object`);
  }
  // A copy by Object.assign: fields added to a `{ ...context }` copy would give every email's context a hidden class of its own (application-reads.ts).
  const data: Record<string, unknown> = Object.assign({}, context as Record<string, unknown>);
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

function notFound(file: string, cause?: unknown): TemplateNotFoundError {
  return new TemplateNotFoundError(`Email template file not found: ${file}`, { cause });
}

/** Drops trailing spaces and runs of blank lines that optional sections leave behind. */
function tidyText(text: string): string {
  return `${text.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
