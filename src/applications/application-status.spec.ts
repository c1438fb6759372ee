import fc from 'fast-check';
import { ROLES } from 'src/common/auth/roles';
import {
  APPLICATION_ACTIONS,
  APPLICATION_STATUSES,
  ApplicationStatus,
  EDITABLE_STATUSES,
  FINAL_STATUSES,
  findTransition,
  mayTake,
  OPEN_STATUSES,
  statusesAllowing,
  SYSTEM_ACTOR,
  TRANSITIONS,
} from 'src/applications/application-status';

const status = fc.constantFrom(...APPLICATION_STATUSES);
const action = fc.constantFrom(...APPLICATION_ACTIONS);
const fen = fc.integer({ min: 1, max: 1_000_000_000_000 });

describe('the application transition table', () => {
  it('holds at most one row per status, action and amount condition', () => {
    const keys = TRANSITIONS.map((t) => `${t.from}/${t.action}/${t.amount ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is deterministic: for any status, action, amount and threshold at most one row applies', () => {
    fc.assert(
      fc.property(status, action, fen, fen, (from, act, amount, threshold) => {
        const matching = TRANSITIONS.filter((t) => t.from === from && t.action === act).filter(
          (t) => !t.amount || (t.amount === 'at_or_above_second_approval_threshold' ? amount >= threshold : amount < threshold),
        );
        expect(matching.length).toBeLessThanOrEqual(1);
        expect(findTransition(from, act, { amount, secondApprovalThreshold: threshold })).toBe(matching[0]);
      }),
    );
  });

  it('never leaves a final status, whatever the amount', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FINAL_STATUSES), action, fen, fen, (from, act, amount, threshold) => {
        expect(findTransition(from, act)).toBeUndefined();
        expect(findTransition(from, act, { amount, secondApprovalThreshold: threshold })).toBeUndefined();
      }),
    );
  });

  it('gives every status but the final ones a way out, and every row a real change', () => {
    fc.assert(
      fc.property(status, (s) => {
        const exits = TRANSITIONS.filter((t) => t.from === s);
        expect(exits.length > 0).toBe(!FINAL_STATUSES.includes(s));
        for (const t of exits) expect(t.to).not.toBe(t.from);
      }),
    );
  });

  it('reaches every status from draft', () => {
    const reached = new Set<ApplicationStatus>(['draft']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const t of TRANSITIONS) {
        if (reached.has(t.from) && !reached.has(t.to)) {
          reached.add(t.to);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...APPLICATION_STATUSES].sort());
  });

  it('names only known statuses and roles, never an empty role set, and keeps system rows for the system alone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TRANSITIONS), (t) => {
        expect(APPLICATION_STATUSES).toContain(t.from);
        expect(APPLICATION_STATUSES).toContain(t.to);
        expect(t.roles.length).toBeGreaterThan(0);
        for (const role of t.roles) expect([...ROLES, SYSTEM_ACTOR]).toContain(role);
        if (t.roles.includes(SYSTEM_ACTOR)) expect(t.roles).toEqual([SYSTEM_ACTOR]);
      }),
    );
  });

  it('lets no person take a system transition, and the system nothing else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TRANSITIONS), fc.constantFrom(...ROLES), (t, role) => {
        const system = t.action === 'start-disbursing' || t.action === 'complete';
        expect(mayTake(t, SYSTEM_ACTOR)).toBe(system);
        if (system) expect(mayTake(t, role)).toBe(false);
      }),
    );
    expect(findTransition('approved', 'start-disbursing')?.to).toBe('disbursing');
    expect(findTransition('disbursing', 'complete')?.to).toBe('completed');
  });

  it('submits only from draft or info_requested, and only the family', () => {
    expect(statusesAllowing('submit').sort()).toEqual(['draft', 'info_requested']);
    expect(TRANSITIONS.filter((t) => t.action === 'submit').every((t) => t.to === 'submitted' && t.roles.join() === 'applicant')).toBe(true);
  });

  it('withdraws only before a decision', () => {
    expect(statusesAllowing('withdraw').sort()).toEqual(['draft', 'info_requested', 'submitted']);
    expect(findTransition('approved', 'withdraw')).toBeUndefined();
    expect(findTransition('under_review', 'withdraw')).toBeUndefined();
  });

  it('leaves review decisions to reviewers and admins only', () => {
    for (const act of ['start-review', 'request-info', 'approve', 'reject'] as const) {
      for (const t of TRANSITIONS.filter((r) => r.action === act)) expect([...t.roles].sort()).toEqual(['admin', 'reviewer']);
    }
    expect(statusesAllowing('start-review')).toEqual(['submitted']);
    expect(statusesAllowing('request-info')).toEqual(['under_review']);
    expect(statusesAllowing('reject').sort()).toEqual(['awaiting_second_approval', 'under_review']);
    expect(statusesAllowing('cancel').sort()).toEqual(['approved', 'disbursing']);
    for (const t of TRANSITIONS.filter((r) => r.action === 'cancel')) expect([...t.roles].sort()).toEqual(['admin', 'fund_finance']);
  });

  it('sends an approval at or above the threshold to a second reviewer, below it straight to approved', () => {
    fc.assert(
      fc.property(fen, fen, (amount, threshold) => {
        const t = findTransition('under_review', 'approve', { amount, secondApprovalThreshold: threshold });
        expect(t?.to).toBe(amount >= threshold ? 'awaiting_second_approval' : 'approved');
      }),
    );
    expect(findTransition('under_review', 'approve')).toBeUndefined(); // no amount, no decision
    const second = findTransition('awaiting_second_approval', 'approve', { amount: 1, secondApprovalThreshold: 2 });
    expect(second).toMatchObject({ to: 'approved', confirmsFirstApproval: true });
    expect(statusesAllowing('approve').sort()).toEqual(['awaiting_second_approval', 'under_review']);
  });

  it('lets the family edit exactly where it may submit', () => {
    expect([...EDITABLE_STATUSES].sort()).toEqual(statusesAllowing('submit').sort());
  });

  it('counts every non-final status as open', () => {
    expect(OPEN_STATUSES.length + FINAL_STATUSES.length).toBe(APPLICATION_STATUSES.length);
    expect(OPEN_STATUSES).toContain('draft');
    expect(OPEN_STATUSES).not.toContain('withdrawn');
  });
});
