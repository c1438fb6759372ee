import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import juice from 'juice';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { LOCALES, TEMPLATE_NAMES, TemplateName } from 'src/notifications/templates/template-contexts';
import { TemplateRenderer } from 'src/notifications/templates/template-renderer';

/**
 * The CSS is inlined into the compiled templates once instead of into every rendered message. These tests hold the
 * output to the old way (juice on each rendered message) byte for byte.
 */
const TEMPLATES_DIR = join(__dirname, '..', '..', '..', 'templates');
const ALL = TEMPLATE_NAMES.flatMap((name) => LOCALES.map((locale) => [name, locale] as const));
/** What people type: markup, entities, quotes, Handlebars and CSS-looking text must come out exactly as before. */
const NASTY = `<b class="card">x</b> & &amp; "q" 'a' \`t\` a=b {{fullName}} {{> layout}} <style>p{color:red}</style> 李梅 .note { }`;

function sample<N extends TemplateName>(name: N): Record<string, unknown> {
  return structuredClone(SAMPLE_TEMPLATE_CONTEXTS[name]) as unknown as Record<string, unknown>;
}

/** The sample, then the sample with each string field (one at a time, and in lists) made nasty. */
function contexts(name: TemplateName): Record<string, unknown>[] {
  const base = sample(name);
  const variants: Record<string, unknown>[] = [base];
  for (const [field, value] of Object.entries(base)) {
    if (typeof value === 'string') variants.push({ ...base, [field]: NASTY });
    if (Array.isArray(value)) {
      variants.push({ ...base, [field]: value.map((item) => (typeof item === 'object' && item ? nastyStrings(item as Record<string, unknown>) : item)) });
      variants.push({ ...base, [field]: [] });
    }
  }
  return variants;
}

function nastyStrings(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, typeof v === 'string' && !/At$|On$|date/i.test(k) ? NASTY : v]));
}

function renderBoth(compiled: TemplateRenderer, perMessage: TemplateRenderer, name: TemplateName, locale: (typeof LOCALES)[number], context: Record<string, unknown>) {
  let expected: unknown;
  try {
    expected = perMessage.render(name, locale, context as never);
  } catch (error) {
    // A context the helpers refuse (a nasty date or amount) must be refused the same way.
    expect(() => compiled.render(name, locale, context as never)).toThrow((error as Error).message);
    return 'refused';
  }
  expect(compiled.render(name, locale, context as never)).toEqual(expected);
  return 'rendered';
}

describe('CSS inlined once per compiled template', () => {
  const compiled = new TemplateRenderer(TEMPLATES_DIR);
  const perMessage = new TemplateRenderer(TEMPLATES_DIR, { inlineCss: 'per-message' });

  it.each(ALL)('%s in %s renders the same bytes as inlining every message', (name, locale) => {
    const outcomes = contexts(name).map((context) => renderBoth(compiled, perMessage, name, locale, context));
    expect(outcomes[0]).toBe('rendered');
    expect(outcomes.filter((o) => o === 'rendered').length).toBeGreaterThan(1);
  });

  it('no longer runs juice when a message is rendered', () => {
    const renderer = new TemplateRenderer(TEMPLATES_DIR);
    renderer.render('tranche-paid', 'en', sample('tranche-paid') as never); // compiles (and inlines) once
    const spy = jest.spyOn(juice, 'inlineContent');
    try {
      const email = renderer.render('tranche-paid', 'zh-CN', sample('tranche-paid') as never);
      expect(spy).toHaveBeenCalled(); // the zh-CN templates, compiled now
      spy.mockClear();
      for (let i = 0; i < 3; i++) expect(renderer.render('tranche-paid', 'zh-CN', sample('tranche-paid') as never)).toEqual(email);
      expect(spy).not.toHaveBeenCalled();
      expect(email.html).not.toContain('<style');
      expect(email.html).toMatch(/<th style="[^"]+" align="left" valign="top">/);
    } finally {
      spy.mockRestore();
    }
  });

  describe('templates outside the usual shape are inlined per message, as before', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sprout-templates-'));
      cpSync(TEMPLATES_DIR, dir, { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const same = (name: TemplateName, context: Record<string, unknown> = sample(name)) =>
      expect(new TemplateRenderer(dir).render(name, 'en', context as never)).toEqual(
        new TemplateRenderer(dir, { inlineCss: 'per-message' }).render(name, 'en', context as never),
      );

    it('a template without the layout gets none of its CSS', () => {
      writeFileSync(join(dir, 'en', 'password-reset.hbs'), '<title>Reset</title><p class="note">{{fullName}}</p>');
      same('password-reset');
      expect(new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset') as never).html).toBe(
        `<title>Reset</title><p class="note">${sample('password-reset').fullName as string}</p>`,
      );
    });

    it('a template with a <style> of its own', () => {
      writeFileSync(
        join(dir, 'en', 'password-reset.hbs'),
        '{{#> layout staff=false}}{{#*inline "subject"}}Reset{{/inline}}<style>.x { color: red; }</style><p class="x note">{{fullName}}</p>{{/layout}}',
      );
      same('password-reset');
      expect(new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset') as never).html).toMatch(/<p class="x note" style="[^"]*color: red/);
    });

    it('a partial with a <style> of its own', () => {
      writeFileSync(join(dir, 'en', 'partials', 'signature.hbs'), '<style>.sig { color: blue; }</style><p class="sig">{{fullName}}</p>');
      writeFileSync(join(dir, 'en', 'password-reset.hbs'), '{{#> layout staff=false}}{{#*inline "subject"}}Reset{{/inline}}{{> signature}}{{/layout}}');
      same('password-reset');
      expect(new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset') as never).html).toMatch(/<p class="sig" style="[^"]*color: blue;/);
    });

    it('a partial with elements, used inside the layout', () => {
      writeFileSync(join(dir, 'en', 'partials', 'signature.hbs'), '<p class="small">{{fullName}} &amp; co</p>');
      writeFileSync(join(dir, 'en', 'password-reset.hbs'), '{{#> layout staff=true}}{{#*inline "subject"}}Reset {{fullName}}{{/inline}}{{> signature}}{{/layout}}');
      same('password-reset');
      same('password-reset', { ...sample('password-reset'), fullName: NASTY });
      expect(new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset') as never).html).toMatch(/<p class="small" style="[^"]*word-break: break-all;">/);
    });
  });
});
