import type { Role } from 'src/common/auth/roles';

export const APPLICATION_STATUSES = [
  'draft',
  'submitted',
  'under_review',
  'info_requested',
  'awaiting_second_approval',
  'approved',
  'rejected',
  'withdrawn',
  'cancelled',
  'disbursing',
  'completed',
] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

/** Actions that change an application's status (the names of their endpoints where they have one). */
export const APPLICATION_ACTIONS = [
  'submit',
  'withdraw',
  'start-review',
  'request-info',
  'approve',
  'reject',
  'cancel',
  // System transitions, taken by the disbursements module, never by a person through an endpoint of their own:
  'start-disbursing',
  'complete',
] as const;
export type ApplicationAction = (typeof APPLICATION_ACTIONS)[number];

/** Takes the transitions no person asks for (the first tranche was paid, every tranche reconciled). */
export const SYSTEM_ACTOR = 'system';
export type TransitionActor = Role | typeof SYSTEM_ACTOR;

/**
 * Where one (status, action) pair has several rows, the amount decides between them: an approval at or above
 * SECOND_APPROVAL_THRESHOLD needs a second reviewer (four-eyes).
 */
export type AmountCondition = 'below_second_approval_threshold' | 'at_or_above_second_approval_threshold';

export interface Transition {
  action: ApplicationAction;
  from: ApplicationStatus;
  to: ApplicationStatus;
  /**
   * Who may take the action; `applicant` means the owning family only (the query is scoped to it);
   * `system` marks a transition the code takes as the consequence of another event.
   */
  roles: readonly TransitionActor[];
  amount?: AmountCondition;
  /**
   * The second of two approvals: it must come from another reviewer than the first and confirm the same amount
   * (checked by the review service against the recorded decisions, and again by the database).
   */
  confirmsFirstApproval?: true;
}

const REVIEWERS: readonly Role[] = ['reviewer', 'admin'];

/**
 * The single source of truth for status changes (DESIGN.md "The application lifecycle"):
 * a (status, action) pair that is not listed here is refused with 409.
 */
export const TRANSITIONS: readonly Transition[] = [
  { action: 'submit', from: 'draft', to: 'submitted', roles: ['applicant'] },
  { action: 'submit', from: 'info_requested', to: 'submitted', roles: ['applicant'] },
  { action: 'withdraw', from: 'draft', to: 'withdrawn', roles: ['applicant'] },
  { action: 'withdraw', from: 'submitted', to: 'withdrawn', roles: ['applicant'] },
  { action: 'withdraw', from: 'info_requested', to: 'withdrawn', roles: ['applicant'] },

  { action: 'start-review', from: 'submitted', to: 'under_review', roles: REVIEWERS },
  { action: 'request-info', from: 'under_review', to: 'info_requested', roles: REVIEWERS },
  { action: 'approve', from: 'under_review', to: 'approved', roles: REVIEWERS, amount: 'below_second_approval_threshold' },
  { action: 'approve', from: 'under_review', to: 'awaiting_second_approval', roles: REVIEWERS, amount: 'at_or_above_second_approval_threshold' },
  { action: 'approve', from: 'awaiting_second_approval', to: 'approved', roles: REVIEWERS, confirmsFirstApproval: true },
  { action: 'reject', from: 'under_review', to: 'rejected', roles: REVIEWERS },
  { action: 'reject', from: 'awaiting_second_approval', to: 'rejected', roles: REVIEWERS },

  { action: 'cancel', from: 'approved', to: 'cancelled', roles: ['fund_finance', 'admin'] },
  { action: 'cancel', from: 'disbursing', to: 'cancelled', roles: ['fund_finance', 'admin'] },
  { action: 'start-disbursing', from: 'approved', to: 'disbursing', roles: [SYSTEM_ACTOR] },
  { action: 'complete', from: 'disbursing', to: 'completed', roles: [SYSTEM_ACTOR] },
];

/** Statuses no action leaves. */
export const FINAL_STATUSES: readonly ApplicationStatus[] = ['rejected', 'withdrawn', 'cancelled', 'completed'];

/** Not final: such an application still competes for the fund, so a second one for the same child is flagged. */
export const OPEN_STATUSES: readonly ApplicationStatus[] = APPLICATION_STATUSES.filter((s) => !FINAL_STATUSES.includes(s));

/** The family may change the sections and documents only while the application is in its hands. */
export const EDITABLE_STATUSES: readonly ApplicationStatus[] = ['draft', 'info_requested'];

/** What a conditional row is judged on; rows without a condition ignore it. */
export type TransitionFacts = { amount?: number; secondApprovalThreshold?: number };

function conditionHolds(t: Transition, facts: TransitionFacts): boolean {
  if (!t.amount) return true;
  const { amount, secondApprovalThreshold } = facts;
  if (amount === undefined || secondApprovalThreshold === undefined) return false;
  return t.amount === 'at_or_above_second_approval_threshold' ? amount >= secondApprovalThreshold : amount < secondApprovalThreshold;
}

/**
 * The row for `action` from `from`; for approvals from under_review pass the amount and the threshold
 * (without them no approval row matches).
 */
export function findTransition(from: ApplicationStatus, action: ApplicationAction, facts: TransitionFacts = {}): Transition | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.action === action && conditionHolds(t, facts));
}

/** The statuses from which `action` is possible, for error messages and guarded updates. */
export function statusesAllowing(action: ApplicationAction): ApplicationStatus[] {
  return [...new Set(TRANSITIONS.filter((t) => t.action === action).map((t) => t.from))];
}

/** Whether `actor` may take the transition (the table's role sets; `system` only for the system). */
export function mayTake(transition: Transition, actor: TransitionActor): boolean {
  return transition.roles.includes(actor);
}
