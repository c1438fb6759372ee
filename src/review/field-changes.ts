import { CONSENTS } from 'src/applications/application-fields';
import type { DocumentType } from 'src/applications/application-fields';
import { ApplicationState, GUARDIAN_FIELDS, HOUSEHOLD_FIELDS, MEDICAL_FIELDS, PATIENT_FIELDS } from 'src/applications/application-sections';

/** Field path (`household.annualIncome`, `documents.income_proof`) → keyed hash of its value. Never values. */
export type FieldHashes = Record<string, string>;

export type DocumentRef = { id: string; type: DocumentType };

/**
 * Every field of an application that is set, by path, with national ids and the documents of each type. Values are
 * only ever hashed (with a key) before anything is stored: the reviewer learns which fields changed, not from what.
 */
export function fieldValues(state: ApplicationState, documents: readonly DocumentRef[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const put = (path: string, value: unknown) => {
    if (value !== undefined && value !== null) out.set(path, value);
  };
  put('hospitalId', state.hospitalId);
  const sections = [
    ['patient', state.patient, PATIENT_FIELDS],
    ['guardian', state.guardian, GUARDIAN_FIELDS],
    ['household', state.household, HOUSEHOLD_FIELDS],
    ['medical', state.medical, MEDICAL_FIELDS],
  ] as const;
  for (const [name, section, fields] of sections) {
    for (const field of fields) put(`${name}.${field}`, (section as Record<string, unknown>)[field]);
  }
  put('patient.nationalId', state.patientNationalId);
  put('guardian.nationalId', state.guardianNationalId);
  for (const name of CONSENTS) put(`consents.${name}`, state.consents[name]?.given);
  const byType = new Map<string, string[]>();
  for (const doc of documents) byType.set(doc.type, [...(byType.get(doc.type) ?? []), doc.id]);
  for (const [type, ids] of byType) put(`documents.${type}`, [...ids].sort());
  return out;
}

/** `keyedHash` must be keyed (HMAC): a plain hash of a national id or an income is easy to reverse by guessing. */
export function hashFields(values: Map<string, unknown>, keyedHash: (text: string) => string): FieldHashes {
  const out: FieldHashes = {};
  for (const [path, value] of values) out[path] = keyedHash(`${path}\u0000${JSON.stringify(value)}`);
  return out;
}

/** The paths set, cleared or changed between two snapshots, sorted. */
export function changedFields(before: FieldHashes, after: FieldHashes): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((p) => before[p] !== after[p]).sort();
}
