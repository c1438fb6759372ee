import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
