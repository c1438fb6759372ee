export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export const TEMPLATE_NAMES = [
  'email-verification',
  'invitation',
  'password-reset',
  'application-submitted',
  'info-requested',
  'application-approved',
  'application-rejected',
  'tranche-paid',
  'tranche-paid-hospital',
  'grant-cancelled',
  'tranche-cancelled',
  'tranche-cancelled-hospital',
  'tranche-returned',
  'tranche-returned-hospital',
  'reconciliation-exceptions',
  'reviewer-digest',
  'payees-outdated',
  'info-answered',
  'bank-account-changed',
  'password-changed',
  'application-withdrawn',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/**
 * Integer minor units (fen), as a safe integer or a string of digits. Not bigint: contexts are stored as jsonb
 * in the outbox row, and JSON cannot hold a bigint (pass `amount.toString()`).
 */
export type FenAmount = number | string;

/** An ISO 8601 date (`2026-09-01`) or timestamp with offset (`2026-09-01T08:00:00Z`), or a Date. */
export type IsoDate = string | Date;

export type UserRole = 'applicant' | 'reviewer' | 'fund_finance' | 'hospital_finance' | 'admin';

export type AssessmentTier = 'A' | 'B' | 'C' | 'ineligible';

/**
 * No name: whoever registers writes it, for any address, and the email greeted them with it — a stranger's text
 * mailed under the fund's name to someone else's inbox.
 */
export interface EmailVerificationContext {
  verifyUrl: string;
  token: string;
  expiresInHours: number;
  /**
   * When the link stops working: the email states it (in China time), whenever it is sent, and the worker marks the
   * email dead instead of sending it with less than 10 minutes left. The `expiresIn…` figure is only for a row
   * without it, and for a worker of an earlier release.
   */
  linkExpiresAt?: IsoDate;
}

export interface InvitationContext {
  fullName: string;
  role: UserRole;
  acceptUrl: string;
  token: string;
  expiresInDays: number;
  invitedBy?: string | null;
  /**
   * When the link stops working: the email states it (in China time), whenever it is sent, and the worker marks the
   * email dead instead of sending it with less than 10 minutes left. The `expiresIn…` figure is only for a row
   * without it, and for a worker of an earlier release.
   */
  linkExpiresAt?: IsoDate;
}

export interface PasswordResetContext {
  /** The account's name once its address is verified; before, anyone may have typed it, and the email greets no one. */
  fullName?: string | null;
  resetUrl: string;
  token: string;
  expiresInMinutes: number;
  /**
   * When the link stops working: the email states it (in China time), whenever it is sent, and the worker marks the
   * email dead instead of sending it with less than 10 minutes left. The `expiresIn…` figure is only for a row
   * without it, and for a worker of an earlier release.
   */
  linkExpiresAt?: IsoDate;
}

export interface ApplicationSubmittedContext {
  fullName: string;
  reference: string;
  applicationUrl: string;
  submittedAt: IsoDate;
  /** Submitted again with the answers to a reviewer's questions, not for the first time. */
  answered?: boolean;
}

export interface ApplicationWithdrawnContext {
  fullName: string;
  reference: string;
  applicationUrl: string;
  withdrawnAt: IsoDate;
  /** Withdrawn before any submission: what it held of the child and the household was deleted with it. */
  detailsErased?: boolean;
}

export interface InfoRequestedContext {
  fullName: string;
  reference: string;
  applicationUrl: string;
}

/** To the reviewer (or admin) who asked the family a question, once the family has answered and submitted again. */
export interface InfoAnsweredContext {
  fullName: string;
  reference: string;
  applicationUrl: string;
  requestedAt: IsoDate;
  submittedAt: IsoDate;
}

/**
 * To the hospital's finance office and to fund finance: the account the fund pays the hospital into was changed. The
 * account's owner is the one who can tell a wrong or fraudulent change; account numbers are shown by their last digits.
 */
export interface BankAccountChangedContext {
  fullName: string;
  hospitalName: string;
  /** For a hospital finance recipient: not sent if they serve another hospital by then. */
  hospitalId: string;
  changedAt: IsoDate;
  previousBankName: string;
  /** Absent from emails queued before it was added: a change of the holder's name alone is a classic sign of fraud. */
  previousAccountName?: string;
  previousAccountEnding: string;
  bankName: string;
  accountName: string;
  accountEnding: string;
}

export interface ApplicationApprovedContext {
  fullName: string;
  reference: string;
  amount: FenAmount;
  applicationUrl: string;
}

export interface ApplicationRejectedContext {
  fullName: string;
  reference: string;
  reason: string;
  applicationUrl: string;
}

/** To the family. */
export interface TranchePaidContext {
  fullName: string;
  reference: string;
  trancheReference: string;
  amount: FenAmount;
  paidOn: IsoDate;
  hospitalName: string;
  applicationUrl: string;
}

/** To the hospital's finance office: only what matching the bank transfer needs, nothing about the family. */
export interface TranchePaidHospitalContext {
  fullName: string;
  hospitalName: string;
  trancheReference: string;
  amount: FenAmount;
  paidOn: IsoDate;
  bankReference: string;
  /** The hospital the recipient served when this was written: not sent if they serve another by then (absent in older rows). */
  hospitalId?: string;
}

/** To the family: the whole grant is cancelled. What already reached the hospital stays paid; the rest will not be paid. */
export interface GrantCancelledContext {
  fullName: string;
  reference: string;
  /** Paid to the hospital before the cancellation (tranches paid or reconciled). */
  paidAmount: FenAmount;
  /** What the grant will no longer pay (the amount released back to the fund). */
  cancelledAmount: FenAmount;
  /** The reason fund finance gave when cancelling. */
  reason: string;
  hospitalName: string;
  applicationUrl: string;
}

/** To the family: one scheduled payment of the grant will not be made; the rest of the grant is unchanged. */
export interface TrancheCancelledContext {
  fullName: string;
  reference: string;
  trancheReference: string;
  amount: FenAmount;
  reason: string;
  hospitalName: string;
  applicationUrl: string;
}

export interface CancelledTrancheItem {
  trancheReference: string;
  amount: FenAmount;
}

/** To the hospital's finance office: the scheduled payments that will not come; nothing about the family, and not why. */
export interface TrancheCancelledHospitalContext {
  fullName: string;
  hospitalName: string;
  count: number;
  total: FenAmount;
  tranches: CancelledTrancheItem[];
  /** The hospital the recipient served when this was written: not sent if they serve another by then (absent in older rows). */
  hospitalId?: string;
}

/** To fund finance: a hospital's bank account changed while tranches were scheduled to the previous one. */
export interface PayeesOutdatedContext {
  fullName: string;
  hospitalName: string;
  count: number;
  total: FenAmount;
  /** The first of them (the list is capped); `more` counts the rest. `exportedAt`: in a payment file sent then. */
  tranches: (CancelledTrancheItem & { exportedAt?: IsoDate })[];
  more: number;
}

/**
 * To the family: a payment they were told of came back to the fund (the bank returned it). `payAgain`: the
 * tranche waits to be paid again; false when the grant was cancelled meanwhile (the amount stays with the fund).
 * Not the reason: it is about the hospital's bank account.
 */
export interface TrancheReturnedContext {
  fullName: string;
  reference: string;
  trancheReference: string;
  amount: FenAmount;
  paidOn: IsoDate;
  returnedOn: IsoDate;
  payAgain: boolean;
  hospitalName: string;
  applicationUrl: string;
}

/** To the hospital's finance office: a transfer it may have been told of came back, and why (often its account details). */
export interface TrancheReturnedHospitalContext {
  fullName: string;
  hospitalName: string;
  trancheReference: string;
  amount: FenAmount;
  paidOn: IsoDate;
  bankReference: string;
  returnedOn: IsoDate;
  reason: string;
  payAgain: boolean;
  /** The hospital the recipient served when this was written: not sent if they serve another by then. */
  hospitalId?: string;
}

export interface ReconciliationExceptionsContext {
  fullName: string;
  hospitalName: string;
  statementId: string;
  /** The uploaded file's name, as the person who imported it knows it (absent in rows written before December 2026). */
  fileName?: string;
  mismatched: number;
  /** Credits naming a Sprout reference that matched no payment (in rows written before December 2026: all unmatched). */
  unmatched: number;
  /** Credits naming no Sprout reference but of the amount of a payment the fund made and no statement has shown yet. */
  unnamedLikePayments?: number;
  /** The other credits naming no Sprout reference: not the fund's, as far as Sprout can tell; no reason for an email. */
  unnamed?: number;
  /** Second transfers for tranches already matched (possible double payments); not repeats of bank entries already imported. */
  duplicates: number;
  /** Of the mismatched: debits and reversals naming the fund's payments, money the bank may have taken back (fund finance is told too). */
  moneyBack?: number;
  /** Of the unmatched: credits naming a payment the fund made to another hospital (fund finance is told too). */
  otherHospitals?: number;
  statementUrl: string;
  /** The hospital the recipient served when this was written: not sent if they serve another by then (absent in older rows). */
  hospitalId?: string;
}

export interface ReviewerDigestItem {
  reference: string;
  submittedAt: IsoDate;
  waitingDays: number;
  tier?: AssessmentTier | null;
}

/** An application a reviewer started and nobody has decided since (its reviewer may be away). */
export interface ReviewerDigestInReview {
  reference: string;
  inReviewSince: IsoDate;
  waitingDays: number;
  tier?: AssessmentTier | null;
}

/** A grant at or above the four-eyes threshold that one reviewer approved and another must confirm. */
export interface ReviewerDigestSecondApproval {
  reference: string;
  firstApprovedAt: IsoDate;
  waitingDays: number;
}

export interface ReviewerDigestContext {
  fullName: string;
  waitingDays: number;
  /** Applications not picked up that this reviewer may decide (`items` lists the oldest, at most 100). */
  count: number;
  items: ReviewerDigestItem[];
  /** Applications under review too long without a decision, that this reviewer may decide. Optional: older rows lack them. */
  inReviewCount?: number;
  inReview?: ReviewerDigestInReview[];
  /**
   * Grants waiting for a second approval this reviewer may give (not ones they approved first). Optional: a digest
   * written by a release without them must still render when it is sent or retried after an upgrade.
   */
  secondApprovalCount?: number;
  secondApprovals?: ReviewerDigestSecondApproval[];
  queueUrl: string;
}

/**
 * To the account's address when its password was reset: a reset link that leaked (a shared screen, a forwarded email,
 * a proxy's log of the link) lets someone else take the account, and its owner would otherwise learn of it only when
 * signed out. Greets by name only a verified address, as the reset email does.
 */
export interface PasswordChangedContext {
  fullName?: string | null;
  role: UserRole;
  changedAt: IsoDate;
  /** Where to ask for a new reset link at once. */
  forgotUrl: string;
}

export interface TemplateContexts {
  'email-verification': EmailVerificationContext;
  invitation: InvitationContext;
  'password-reset': PasswordResetContext;
  'application-submitted': ApplicationSubmittedContext;
  'info-requested': InfoRequestedContext;
  'application-approved': ApplicationApprovedContext;
  'application-rejected': ApplicationRejectedContext;
  'tranche-paid': TranchePaidContext;
  'tranche-paid-hospital': TranchePaidHospitalContext;
  'grant-cancelled': GrantCancelledContext;
  'tranche-cancelled': TrancheCancelledContext;
  'tranche-cancelled-hospital': TrancheCancelledHospitalContext;
  'payees-outdated': PayeesOutdatedContext;
  'info-answered': InfoAnsweredContext;
  'bank-account-changed': BankAccountChangedContext;
  'password-changed': PasswordChangedContext;
  'application-withdrawn': ApplicationWithdrawnContext;
  'tranche-returned': TrancheReturnedContext;
  'tranche-returned-hospital': TrancheReturnedHospitalContext;
  'reconciliation-exceptions': ReconciliationExceptionsContext;
  'reviewer-digest': ReviewerDigestContext;
}

type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time guard: TEMPLATE_NAMES and TemplateContexts must name the same templates.
const templateNamesMatchContexts: SameKeys<TemplateName, keyof TemplateContexts> = true;
void templateNamesMatchContexts;
