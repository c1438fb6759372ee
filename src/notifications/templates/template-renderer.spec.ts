import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { LOCALES, TEMPLATE_NAMES, TemplateName } from 'src/notifications/templates/template-contexts';
import { TemplateNotFoundError, TemplateRenderError } from 'src/notifications/templates/template-render.error';
import { TEMPLATE_FIELDS } from 'src/notifications/templates/template-fields';
import { TemplateRenderer } from 'src/notifications/templates/template-renderer';

const TEMPLATES_DIR = join(__dirname, '..', '..', '..', 'templates');
const ALL = TEMPLATE_NAMES.flatMap((name) => LOCALES.map((locale) => [name, locale] as const));

function sample<N extends TemplateName>(name: N) {
  return structuredClone(SAMPLE_TEMPLATE_CONTEXTS[name]);
}

/** A private copy of the templates, for tests that break or change files. */
function copyOfTemplates(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-templates-'));
  cpSync(TEMPLATES_DIR, dir, { recursive: true });
  return dir;
}

describe('TemplateRenderer', () => {
  const renderer = new TemplateRenderer(TEMPLATES_DIR);

  // The application has no free-text field: a family told to "explain in the application" found nowhere to write.
  it.each([
    ['en', '“other” document'],
    ['zh-CN', '作为“其他”材料上传'],
  ] as const)('info-requested in %s tells a family who cannot obtain a document how to say why (an "other" document)', (locale, words) => {
    const email = renderer.render('info-requested', locale, sample('info-requested'));
    expect(email.text).toContain(words);
    expect(email.html).toContain(words);
  });

  describe.each(ALL)('%s in %s', (name, locale) => {
    const email = renderer.render(name, locale, sample(name) as never);

    it('renders a subject, an HTML part and a text part', () => {
      expect(email.subject.length).toBeGreaterThan(5);
      expect(email.subject).not.toMatch(/[\r\n<>]|&\w+;/);
      expect(email.html).toMatch(/^<!DOCTYPE html>/);
      expect(email.html).toContain(`<html lang="${locale}">`);
      expect(email.text.trim().length).toBeGreaterThan(50);
    });

    it('inlines the CSS: no <style> block is left and elements carry style attributes', () => {
      expect(email.html).not.toMatch(/<style/i);
      expect(email.html).toMatch(/<body style="[^"]*background-color/);
      expect(email.html).toMatch(/<p style="[^"]*font-size: 16px/);
    });

    it('leaves no HTML and no unrendered Handlebars in the text part', () => {
      expect(email.text).not.toMatch(/<\/?[a-z][^>]*>/i);
      expect(email.text).not.toMatch(/\{\{|\}\}|&amp;|&lt;|&#x/);
    });
  });

  it.each(ALL.filter(([name]) => name !== 'email-verification'))('%s in %s greets the recipient by name in both parts', (name, locale) => {
    const context = sample(name) as { fullName: string };
    const email = renderer.render(name, locale, context as never);
    expect(email.html).toContain(context.fullName);
    expect(email.text).toContain(context.fullName);
  });

  // Anyone may register with any name and someone else's address: a greeting would mail their text under the fund's name.
  it.each(LOCALES)('the verification email in %s names no one, whatever its context holds', (locale) => {
    const spam = '您的救助款¥50000待领取 请访问 evil.example';
    const email = renderer.render('email-verification', locale, { ...sample('email-verification'), fullName: spam } as never);
    for (const part of [email.subject, email.html, email.text]) expect(part).not.toMatch(/evil\.example|50000/);
    expect(email.text).toContain(sample('email-verification').verifyUrl);
  });

  it('has an HTML and a text file for every template in every locale, and no file that nothing renders', () => {
    expect(readdirSync(TEMPLATES_DIR).sort()).toEqual([...LOCALES].sort());
    const expected = TEMPLATE_NAMES.flatMap((name) => [`${name}.hbs`, `${name}.text.hbs`]).sort();
    for (const locale of LOCALES) {
      const files = readdirSync(join(TEMPLATES_DIR, locale)).filter((file) => file !== 'partials');
      expect(files.sort()).toEqual(expected);
    }
  });

  it.each(TEMPLATE_NAMES)('writes the subject of %s differently in each locale', (name) => {
    const [zh, en] = LOCALES.map((locale) => renderer.render(name, locale, sample(name) as never).subject);
    expect(zh).not.toBe(en);
    expect(zh).toMatch(/\p{Script=Han}/u);
  });

  it('fills in amounts, dates and lists through the helpers', () => {
    const approved = renderer.render('application-approved', 'en', { ...sample('application-approved'), amount: 123456789 });
    expect(approved.html).toContain('¥1,234,567.89');
    expect(approved.text).toContain('¥1,234,567.89');

    const digest = renderer.render('reviewer-digest', 'zh-CN', sample('reviewer-digest'));
    expect(digest.subject).toBe('有 2 份申请等待审核已超过 3 天');
    expect(digest.text).toContain('SPR-2026-000117：2026-08-28 提交，已等待 6 天，救助档次：A 档');
    expect(digest.text).toMatch(/SPR-2026-000120：2026-08-31 提交，已等待 4 天\n/);
  });

  it('tells the family of a cancelled grant, in either language, what was paid, what no longer will be, and why', () => {
    const context = { ...sample('grant-cancelled'), paidAmount: 1_000_000, cancelledAmount: '2345678', reason: 'Treatment is now covered by another fund.' };
    const en = renderer.render('grant-cancelled', 'en', context);
    expect(en.subject).toBe('Your grant SPR-2026-000123 has been cancelled');
    expect(en.text).toMatch(/Already paid to the hospital: ¥10,000\.00\n\s+No longer to be paid:\s+¥23,456\.78/);
    expect(en.text).toContain('Treatment is now covered by another fund.');
    expect(en.text).toContain('please contact the fund office');
    const zh = renderer.render('grant-cancelled', 'zh-CN', context);
    expect(zh.subject).toBe('您的资助 SPR-2026-000123 已取消');
    expect(zh.text).toContain('已支付给医院：¥10,000.00');
    expect(zh.text).toContain('不再支付：¥23,456.78');
    expect(zh.html).toContain('Treatment is now covered by another fund.');
    expect(zh.text).toContain('请联系基金办公室');
  });

  it('states when a link stops working, in China time, whenever the email is sent; a row without it, the validity it was issued with', () => {
    // 18:30:59 in Shanghai: the email says 18:30, never a minute later than the link works.
    const linkExpiresAt = '2026-09-03T10:30:59Z';
    const older: Record<'password-reset' | 'email-verification' | 'invitation', { en: string; zh: string }> = {
      'password-reset': { en: 'valid for 30 minutes', zh: '30 分钟内有效' },
      'email-verification': { en: 'valid for 24 hours', zh: '24 小时内有效' },
      invitation: { en: 'valid for 7 days', zh: '7 天内有效' },
    };
    for (const name of ['password-reset', 'email-verification', 'invitation'] as const) {
      const en = renderer.render(name, 'en', { ...sample(name), linkExpiresAt });
      expect(en.html).toContain('valid until 2026-09-03 18:30 (China time)');
      expect(en.text).toContain('valid until 2026-09-03 18:30, China time');
      expect(en.text).not.toMatch(/valid for/);
      const zh = renderer.render(name, 'zh-CN', { ...sample(name), linkExpiresAt });
      for (const part of [zh.html, zh.text]) expect(part).toContain('有效期至北京时间 2026-09-03 18:30');
      expect(zh.text).not.toMatch(/\d+ (分钟|小时|天)内有效/);
      // A row written before linkExpiresAt was recorded.
      expect(renderer.render(name, 'en', sample(name)).text).toContain(older[name].en);
      expect(renderer.render(name, 'zh-CN', sample(name)).text).toContain(older[name].zh);
    }
  });

  it("names only the application and what happened in a family's payment subjects (the hospital and amount are in the body)", () => {
    const subjects = (name: 'tranche-paid' | 'tranche-cancelled' | 'tranche-returned', context: object = {}) =>
      LOCALES.map((locale) => renderer.render(name, locale, { ...sample(name), ...context } as never).subject);
    expect(subjects('tranche-paid')).toEqual(['基金已为您的申请 SPR-2026-000123 支付一笔款项', 'We have made a payment for your application SPR-2026-000123']);
    expect(subjects('tranche-cancelled')).toEqual(['您的申请 SPR-2026-000123 有一笔计划中的付款已取消', 'A scheduled payment for your application SPR-2026-000123 will not be made']);
    expect(subjects('tranche-returned')).toEqual(['您的申请 SPR-2026-000123 的一笔款项被退回，我们会重新支付', 'A payment for your application SPR-2026-000123 came back: we will send it again']);
    expect(subjects('tranche-returned', { payAgain: false })).toEqual(['您的申请 SPR-2026-000123 的一笔款项已退回基金', 'A payment for your application SPR-2026-000123 came back to the fund']);
    const paid = renderer.render('tranche-paid', 'en', sample('tranche-paid'));
    expect(paid.text).toContain('上海儿童医学中心');
    expect(paid.text).toContain('¥50,000.00');
  });

  it('lists the cancelled payments for the hospital, in the singular when there is one', () => {
    const many = renderer.render('tranche-cancelled-hospital', 'en', sample('tranche-cancelled-hospital'));
    expect(many.subject).toBe('2 scheduled payments to 上海儿童医学中心 will not be made');
    expect(many.text).toContain('SPR-2026-000123-2: ¥25,000.00\n  SPR-2026-000123-3: ¥25,000.00\n  Total: ¥50,000.00');
    const one = { ...sample('tranche-cancelled-hospital'), count: 1, total: 1_333_333, tranches: [{ trancheReference: 'SPR-2026-000123-2', amount: 1_333_333 }] };
    const en = renderer.render('tranche-cancelled-hospital', 'en', one);
    expect(en.subject).toBe('A scheduled payment to 上海儿童医学中心 will not be made');
    expect(en.text).toContain('It will not be transferred, so please do not expect it on your bank statement');
    expect(en.text).toContain('SPR-2026-000123-2: ¥13,333.33');
    expect(renderer.render('tranche-cancelled-hospital', 'zh-CN', one).text).toContain('SPR-2026-000123-2：¥13,333.33');
  });

  it('lists grants waiting for a second approval, after the applications waiting for review or alone', () => {
    const both = renderer.render('reviewer-digest', 'en', sample('reviewer-digest'));
    expect(both.subject).toBe('2 applications have been waiting for review for more than 3 days');
    expect(both.text).toMatch(/SPR-2026-000120: submitted 2026-08-31, waiting 4 days\n[\s\S]*1 grant has been waiting for a second approval for more than 3 days\./);
    expect(both.text).toContain('SPR-2026-000109: first approved 2026-08-29, waiting 5 days');
    expect(both.html).toMatch(/SPR-2026-000109<\/td><td[^>]*>2026-08-29<\/td><td[^>]*>5 days</);

    const onlySecond = { ...sample('reviewer-digest'), count: 0, items: [], inReviewCount: 0, inReview: [] };
    const en = renderer.render('reviewer-digest', 'en', onlySecond);
    expect(en.subject).toBe('1 grant has been waiting for a second approval for more than 3 days');
    expect(en.text).not.toMatch(/waiting for review|Submitted/);
    expect(en.html).not.toMatch(/>Submitted</);
    const zh = renderer.render('reviewer-digest', 'zh-CN', onlySecond);
    expect(zh.subject).toBe('有 1 笔资助等待复核已超过 3 天');
    expect(zh.text).toContain('SPR-2026-000109：2026-08-29 首次批准，已等待 5 天');
    expect(zh.text).not.toContain('等待审核');

    const onlyReview = renderer.render('reviewer-digest', 'zh-CN', { ...sample('reviewer-digest'), secondApprovalCount: 0, secondApprovals: [] });
    expect(onlyReview.text).not.toContain('复核');

    // A digest written before second approvals were listed, sent or retried after the upgrade.
    const { secondApprovalCount: _count, secondApprovals: _items, ...older } = sample('reviewer-digest');
    for (const locale of ['en', 'zh-CN'] as const) expect(renderer.render('reviewer-digest', locale, older).text).toContain('SPR-2026-000117');
  });

  it('lists applications under review too long without a decision, between the waiting ones and the second approvals', () => {
    const all = renderer.render('reviewer-digest', 'en', sample('reviewer-digest'));
    expect(all.text).toMatch(
      /SPR-2026-000120: submitted[^\n]*\n\n1 application has been under review for more than 3 days without a decision\.[^\n]*\n\n  SPR-2026-000112: in review since 2026-08-27, waiting 7 days, tier: B\n\n1 grant has been waiting for a second approval/,
    );
    expect(all.html).toMatch(/SPR-2026-000112<\/td><td[^>]*>2026-08-27<\/td><td[^>]*>7 days<\/td>/);

    const onlyInReview = { ...sample('reviewer-digest'), count: 0, items: [], secondApprovalCount: 0, secondApprovals: [] };
    const en = renderer.render('reviewer-digest', 'en', onlyInReview);
    expect(en.subject).toBe('1 application has been under review for more than 3 days without a decision');
    expect(en.text).not.toMatch(/waiting for review|second approval/);
    const zh = renderer.render('reviewer-digest', 'zh-CN', onlyInReview);
    expect(zh.subject).toBe('有 1 份申请审核中已超过 3 天仍未决定');
    expect(zh.text).toContain('SPR-2026-000112：2026-08-27 开始审核，已等待 7 天，救助档次：B 档');
    expect(zh.text).not.toMatch(/等待审核|复核/);

    // A digest written before this list existed, sent or retried after the upgrade.
    const { inReviewCount: _count, inReview: _items, ...older } = sample('reviewer-digest');
    for (const locale of ['en', 'zh-CN'] as const) expect(renderer.render('reviewer-digest', locale, older).text).not.toContain('SPR-2026-000112');
  });

  it("gives the fund office's contact (FUND_CONTACT) in every footer that says to contact the office, escaped in HTML", () => {
    const withContact = new TemplateRenderer(TEMPLATES_DIR, { inlineCss: 'compiled', fundContact: '021-6438 0000 <help@fund.example.org>' });
    for (const [name, locale] of ALL) {
      const email = withContact.render(name, locale, sample(name) as never);
      expect([name, locale, email.text.includes('021-6438 0000 <help@fund.example.org>')]).toEqual([name, locale, true]);
      expect([name, locale, email.html.includes('021-6438 0000 &lt;help@fund.example.org&gt;')]).toEqual([name, locale, true]);
    }
    // Without it (development), the footer reads as before.
    const plain = renderer.render('tranche-paid', 'en', sample('tranche-paid'));
    expect(plain.text).toContain('contact the fund office.');
    expect(renderer.render('tranche-paid', 'zh-CN', sample('tranche-paid')).text).toContain('联系基金办公室。');
  });

  it('uses the singular in English where a count is 1', () => {
    const email = renderer.render('reviewer-digest', 'en', {
      ...sample('reviewer-digest'),
      count: 1,
      waitingDays: 1,
      items: [{ reference: 'SPR-2026-000200', submittedAt: '2026-09-01', waitingDays: 1, tier: 'ineligible' }],
    });
    expect(email.subject).toBe('1 application has been waiting for review for more than 1 day');
    expect(email.text).toContain('SPR-2026-000200: submitted 2026-09-01, waiting 1 day, tier: not eligible');
  });

  it('escapes what people typed in the HTML part, and keeps it readable in the text part', () => {
    const reason = `<script>alert("x")</script> R&D's`;
    const email = renderer.render('application-rejected', 'en', { ...sample('application-rejected'), reason });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; R&amp;D&#x27;s');
    expect(email.text).toContain(reason);
  });

  it('decodes the escaped subject back to plain text', () => {
    const email = renderer.render('application-rejected', 'en', { ...sample('application-rejected'), reference: `A&B <"1">` });
    expect(email.subject).toBe(`About your application A&B <"1">`);
    expect(email.html).toContain('<title>About your application A&amp;B &lt;&quot;1&quot;&gt;</title>');
  });

  it('renders the optional inviter whether it is given, null or absent', () => {
    const { invitedBy: _, ...withoutInviter } = sample('invitation');
    expect(renderer.render('invitation', 'en', sample('invitation')).text).toContain('Chen Jing has invited you to join');
    expect(renderer.render('invitation', 'en', { ...withoutInviter, invitedBy: null }).text).toContain('You have been invited');
    expect(renderer.render('invitation', 'zh-CN', withoutInviter).text).toContain('我们诚挚地邀请您以医院财务人员的身份加入');
  });

  it('tells a family whose grant is cancelled before any payment nothing of payments made', () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const paidAmount of [0, '0']) {
        const email = renderer.render('grant-cancelled', locale, { ...sample('grant-cancelled'), paidAmount });
        for (const part of [email.text, email.html]) expect(part).not.toMatch(/Already paid|already made|已支付给医院|已经支付给医院/);
      }
      const paid = renderer.render('grant-cancelled', locale, sample('grant-cancelled'));
      expect(paid.text).toMatch(/Already paid to the hospital: ¥50,000.00|已支付给医院：¥50,000.00/);
    }
  });

  it('invites a family to its account as a family, not to join the fund as staff', () => {
    const family = { ...sample('invitation'), role: 'applicant' as const };
    for (const locale of ['en', 'zh-CN'] as const) {
      const email = renderer.render('invitation', locale, family);
      const staffEmail = renderer.render('invitation', locale, sample('invitation'));
      expect(email.subject).not.toBe(staffEmail.subject);
      for (const part of [email.text, email.html]) {
        expect(part).not.toMatch(/Together we help|和我们一起帮助|Kind regards|祝工作顺利/);
        expect(part).toMatch(/apply for help with your child's treatment|为孩子的治疗申请资助/);
        expect(part).toMatch(/With warm wishes|祝您和家人一切安好/);
      }
      expect(staffEmail.text).toMatch(/Together we help|和我们一起帮助/);
    }
  });

  describe('refuses to send an incomplete email', () => {
    it.each(ALL)('throws when a required field of %s (%s) is missing or null', (name, locale) => {
      const fields = Object.entries(TEMPLATE_FIELDS[name]).flatMap(([field, presence]) => (presence === 'required' ? [field] : []));
      expect(fields.length).toBeGreaterThan(0);
      for (const field of fields) {
        for (const value of [undefined, null]) {
          const context = { ...sample(name), [field]: value };
          expect(() => renderer.render(name, locale, context as never)).toThrow(
            new TemplateRenderError(`Email template ${locale}/${name} is missing context field(s): ${field}`),
          );
        }
      }
    });

    it('throws, through strict mode, for a missing field inside a list', () => {
      const context = { ...sample('reviewer-digest'), items: [{ submittedAt: '2026-09-01', waitingDays: 3 }] };
      expect(() => renderer.render('reviewer-digest', 'en', context as never)).toThrow(
        /^Rendering email template en\/reviewer-digest failed: "reference" not defined/,
      );
    });

    it('throws for an amount that is not integer fen and for a malformed date', () => {
      expect(() => renderer.render('application-approved', 'en', { ...sample('application-approved'), amount: 12.5 })).toThrow(
        'Rendering email template en/application-approved failed: money expects an integer amount in fen',
      );
      expect(() => renderer.render('tranche-paid', 'zh-CN', { ...sample('tranche-paid'), paidOn: '20/09/2026' })).toThrow(TemplateRenderError);
    });

    it('throws for a context that is not an object', () => {
      expect(() => renderer.render('invitation', 'en', null as never)).toThrow('Email template en/invitation needs a context object');
    });
  });

  describe('with a templates folder of its own', () => {
    let dir: string;
    beforeEach(() => (dir = copyOfTemplates()));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('compiles in strict mode: a variable the context lacks throws', () => {
      writeFileSync(join(dir, 'en', 'password-reset.text.hbs'), 'Dear {{fullName}}, your code is {{resetCode}}.');
      expect(() => new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset'))).toThrow(
        /failed: "resetCode" not defined/,
      );
      // A template that throws on its data is not a missing one: no retry renders it.
      expect(() => new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset'))).not.toThrow(TemplateNotFoundError);
    });

    it('names the missing file of a template', () => {
      rmSync(join(dir, 'zh-CN', 'tranche-paid.text.hbs'));
      const render = () => new TemplateRenderer(dir).render('tranche-paid', 'zh-CN', sample('tranche-paid'));
      expect(render).toThrow(TemplateNotFoundError); // retried: another worker may have it
      expect(render).toThrow(`Email template file not found: ${join(dir, 'zh-CN', 'tranche-paid.text.hbs')}`);
    });

    it('names the missing folder of a locale', () => {
      rmSync(join(dir, 'en'), { recursive: true });
      expect(() => new TemplateRenderer(dir).render('invitation', 'en', sample('invitation'))).toThrow(
        `Email template file not found: ${join(dir, 'en', 'invitation.hbs')}`,
      );
    });

    it('refuses an unknown template or locale without reading any file', () => {
      const renderer = new TemplateRenderer(dir);
      writeFileSync(join(dir, 'en', 'stray.hbs'), 'stray');
      expect(() => renderer.render('stray' as TemplateName, 'en', {} as never)).toThrow(
        `Email template file not found: ${join(dir, 'en', 'stray.hbs')}`,
      );
      expect(() => renderer.render('invitation', 'fr' as never, sample('invitation'))).toThrow(
        `Email template file not found: ${join(dir, 'fr', 'invitation.hbs')}`,
      );
      expect(() => renderer.render('stray' as TemplateName, 'en', {} as never)).toThrow(TemplateNotFoundError);
    });

    it('escapes a partial in the HTML part but not in the text part', () => {
      writeFileSync(join(dir, 'en', 'partials', 'signature.hbs'), '{{fullName}} & co');
      writeFileSync(join(dir, 'en', 'password-reset.hbs'), '<title>Reset</title><p>{{> signature}}</p>');
      writeFileSync(join(dir, 'en', 'password-reset.text.hbs'), '{{> signature}}');
      const email = new TemplateRenderer(dir).render('password-reset', 'en', { ...sample('password-reset'), fullName: '<Li & Wang>' });
      expect(email.html).toContain('<p>&lt;Li &amp; Wang&gt; & co</p>');
      expect(email.text).toBe('<Li & Wang> & co\n');
    });

    it('complains when the HTML has no title for the subject', () => {
      writeFileSync(join(dir, 'en', 'password-reset.hbs'), '<p>{{fullName}}</p>');
      expect(() => new TemplateRenderer(dir).render('password-reset', 'en', sample('password-reset'))).toThrow(
        'Rendering email template en/password-reset failed: the HTML has no non-empty <title> to use as the subject',
      );
    });

    it('compiles each template once and reuses it', () => {
      const renderer = new TemplateRenderer(dir);
      const first = renderer.render('application-submitted', 'en', sample('application-submitted'));
      writeFileSync(join(dir, 'en', 'application-submitted.text.hbs'), 'changed on disk');
      expect(renderer.render('application-submitted', 'en', sample('application-submitted'))).toEqual(first);
      expect(new TemplateRenderer(dir).render('application-submitted', 'en', sample('application-submitted')).text).toBe(
        'changed on disk\n',
      );
    });
  });

  it('keeps its helpers and partials out of the global Handlebars instance', () => {
    renderer.render('application-approved', 'zh-CN', sample('application-approved'));
    expect(Handlebars.helpers).not.toHaveProperty('money');
    expect(Handlebars.partials).not.toHaveProperty('layout');
  });
});
