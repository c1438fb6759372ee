import fc from 'fast-check';
import { AuditContent, canonicalJson } from 'src/audit/audit-hash';
import { canonicalSql, shiftParams, slot, slotsOf } from 'src/audit/bulk-audit';

/** Evaluates canonicalSql's expression the way PostgreSQL does for the values slots may hold (uuids, references, integers). */
function evaluate(sql: string, params: string[], row: Record<string, string | number>): string {
  return sql
    .split(' || ')
    .map((part) => {
      const param = /^\$(\d+)::text$/.exec(part);
      if (param) return params[Number(param[1]) - 1];
      const value = /^to_json\((.+)\)::text$/.exec(part);
      if (value) return JSON.stringify(row[value[1]]);
      throw new Error(`unexpected part ${part}`);
    })
    .join('');
}

describe('canonicalSql', () => {
  const uuid = fc.uuid();
  const text = fc.string({ unit: 'binary', maxLength: 40 });

  it('yields canonicalJson() of the content with the row values in place of the slots', () => {
    fc.assert(
      fc.property(uuid, uuid, uuid, fc.integer({ min: 1, max: 2_000_000_000 }), fc.option(text), text, (entryId, disbursementId, statementId, version, requestId, role) => {
        const reference = 'SPR-2026-000123-12';
        const row = { 'e.id': entryId, 'e.disbursement_id': disbursementId, 'e.reference': reference, 'c.version': version };
        const content = (v: (name: keyof typeof row) => unknown): AuditContent => ({
          occurredAt: '2026-11-22T03:00:00.123Z',
          actorId: statementId,
          actorRole: role,
          action: 'disbursement.reconciled',
          objectType: 'disbursement',
          objectId: v('e.disbursement_id') as string,
          summary: { reference: v('e.reference'), statementId, entryId: v('e.id'), matchKind: 'auto', version: v('c.version'), nested: { again: [v('e.reference')] } },
          requestId,
        });
        const { sql, params } = canonicalSql(content(slot), slotsOf('e.id', 'e.disbursement_id', 'e.reference', 'c.version'));
        expect(evaluate(sql, params, row)).toBe(canonicalJson(content((name) => row[name])));
        // The constant parts travel as parameters, never inside the SQL text.
        expect(sql).not.toContain(statementId);
      }),
    );
  });

  it('shifts parameter numbers', () => {
    expect(shiftParams('$1::text || to_json(e.id)::text || $2::text', 8)).toBe('$9::text || to_json(e.id)::text || $10::text');
  });
});
