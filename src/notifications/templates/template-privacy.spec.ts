import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import ts from 'typescript';
import { TEMPLATE_FIELDS } from 'src/notifications/templates/template-fields';

/**
 * Emails may be read by anyone with access to a family's mailbox, so they carry no medical or identity
 * detail (DESIGN.md, "Privacy and security"); the app holds it behind a sign-in. This guard stops such a
 * word from creeping into a template or a template's context later.
 */
const FORBIDDEN_WORDS = [
  'diagnosis', 'diagnoses', 'diagnosed', 'icd10', 'icd 10', 'national id', 'anc', 'platelet', 'platelets',
  'reticulocytes', 'medical', 'aplastic', 'anemia', 'anaemia', 'hsct', 'transplant', 'marrow', 'hla',
];
const FORBIDDEN_CHINESE = ['诊断', '病情', '病历', '身份证', '血小板', '中性粒', '网织红', '再障', '再生障碍', '贫血', '移植', '骨髓', '医疗'];

/** Words as a reader sees them: `nationalId`, `national_id` and `NATIONAL-ID` all read "national id". */
function findForbiddenWords(text: string): string[] {
  const words = ` ${text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  return [
    ...FORBIDDEN_WORDS.filter((word) => words.includes(` ${word} `)),
    ...FORBIDDEN_CHINESE.filter((word) => text.includes(word)),
  ];
}

const TEMPLATES_DIR = join(__dirname, '..', '..', '..', 'templates');
const templateFiles = readdirSync(TEMPLATES_DIR, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.hbs'));

function contextTypeNames(): string[] {
  const file = join(__dirname, 'template-contexts.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertySignature(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) {
      names.push(node.name.getText(source));
    }
    if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) names.push(node.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

describe('no medical or identity detail in emails', () => {
  it('recognises the forbidden words however they are written, and only whole words', () => {
    expect(findForbiddenWords('patient.nationalId, NATIONAL_ID, national-id')).toEqual(['national id']);
    expect(findForbiddenWords('ANC 0.3, ICD-10 D61.9, platelets 15')).toEqual(['icd 10', 'anc', 'platelets']);
    expect(findForbiddenWords('孩子的诊断和身份证号')).toEqual(['诊断', '身份证']);
    expect(findForbiddenWords('tranche, finance, balance, cancel, advance, hospital, reference')).toEqual([]);
  });

  it('finds the templates it guards', () => {
    expect(templateFiles.length).toBeGreaterThanOrEqual(44);
  });

  it.each(templateFiles)('template %s has none', (file) => {
    expect(findForbiddenWords(readFileSync(join(TEMPLATES_DIR, file), 'utf8'))).toEqual([]);
  });

  it('no template context has a field for it', () => {
    const fields = Object.values(TEMPLATE_FIELDS).flatMap((fieldsOfOne) => Object.keys(fieldsOfOne));
    const typeNames = contextTypeNames();
    expect(typeNames).toEqual(expect.arrayContaining(['ReviewerDigestItem', 'submittedAt', 'tier', 'hospital_finance']));
    expect(findForbiddenWords([...fields, ...typeNames].join(' '))).toEqual([]);
  });
});

/** The context fields holding money (typed FenAmount), by reading template-contexts.ts. */
function amountFields(): string[] {
  const file = join(__dirname, 'template-contexts.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertySignature(node) && node.type?.getText(source) === 'FenAmount') names.push(node.name.getText(source));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

type HbsNode = { type?: string; [key: string]: unknown };

/**
 * An HTML template's audience (its layout's `staff=` argument) and every name its subject uses: fields and helpers
 * alike (`{{money amount}}` gives `money` and `amount`).
 */
function subjectOf(templateSource: string): { staff: boolean | null; names: string[] } {
  let staff: boolean | null = null;
  const names: string[] = [];
  const walk = (node: unknown, inSubject: boolean): void => {
    if (Array.isArray(node)) return node.forEach((child) => walk(child, inSubject));
    if (!node || typeof node !== 'object') return;
    const n = node as HbsNode;
    if (n.type === 'PartialBlockStatement' && (n.name as { original?: string }).original === 'layout') {
      const pair = ((n.hash as { pairs?: { key: string; value: { type: string; value?: unknown } }[] } | undefined)?.pairs ?? []).find((p) => p.key === 'staff');
      if (typeof pair?.value.value === 'boolean') staff = pair.value.value;
      // Decided per email (staff=(ne role "applicant")): it may reach a family, so a family's rules hold.
      if (pair?.value.type === 'SubExpression') staff = false;
    }
    if (n.type === 'DecoratorBlock' && (n.params as { value?: unknown }[])[0]?.value === 'subject') return walk(n.program, true);
    if (inSubject && n.type === 'PathExpression') names.push(String(n.original));
    for (const [key, child] of Object.entries(n)) if (key !== 'loc') walk(child, inSubject);
  };
  walk(Handlebars.parse(templateSource), false);
  return { staff, names };
}

describe("no hospital and no amount in a family email's subject", () => {
  // A subject shows on a lock screen and in mail relays' logs; the hospital (a blood-disease hospital, say) is medical
  // detail, and the amount is the family's business. The body, behind the mailbox's own sign-in, carries both.
  const htmlTemplates = templateFiles.filter((file) => !file.includes('partials') && !file.endsWith('.text.hbs'));
  const subjects = htmlTemplates.map((file) => ({ file, ...subjectOf(readFileSync(join(TEMPLATES_DIR, file), 'utf8')) }));
  const familyTemplates = subjects.filter((s) => s.staff === false);
  const forbidden = ['hospitalName', 'money', ...amountFields()];

  it('knows every template\'s audience, and which fields are amounts', () => {
    expect(subjects.filter((s) => s.staff === null)).toEqual([]);
    expect(familyTemplates.map((s) => s.file)).toEqual(expect.arrayContaining(['en/tranche-paid.hbs', 'zh-CN/tranche-returned.hbs', 'en/application-approved.hbs']));
    expect(familyTemplates.map((s) => s.file)).not.toContain('en/tranche-paid-hospital.hbs');
    expect(familyTemplates.map((s) => s.file)).toContain('zh-CN/invitation.hbs'); // a family's account may be opened by an admin
    expect(familyTemplates.find((s) => s.file === 'en/application-approved.hbs')?.names).toEqual(['reference']);
    expect(forbidden).toEqual(expect.arrayContaining(['amount', 'paidAmount', 'cancelledAmount', 'total']));
    expect(subjectOf('{{#> layout staff=false}}{{#*inline "subject"}}Paid {{money amount}} to {{hospitalName}}{{/inline}}x{{/layout}}').names).toEqual(
      expect.arrayContaining(['money', 'amount', 'hospitalName']),
    );
  });

  it.each(familyTemplates.map((s) => [s.file, s.names] as const))('%s names neither in its subject', (_file, names) => {
    expect(names.filter((name) => forbidden.includes(name))).toEqual([]);
  });
});
