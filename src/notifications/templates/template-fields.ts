import { TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';

export type FieldPresence = 'required' | 'optional';

type FieldsOf<C> = { [K in keyof C]-?: {} extends Pick<C, K> ? 'optional' : 'required' };

/**
 * Every top-level context field of every template, checked at render time: Handlebars strict mode only
 * throws for plain `{{field}}` lookups, not for helper arguments (`{{money amount}}`, `{{#each items}}`,
 * `{{#if invitedBy}}`), so a missing field there would otherwise render as nothing.
 * The mapped type makes the compiler insist that this list matches the context types exactly.
 */
export const TEMPLATE_FIELDS: { [N in TemplateName]: FieldsOf<TemplateContexts[N]> } = {
  'email-verification': { verifyUrl: 'required', token: 'required', expiresInHours: 'required', linkExpiresAt: 'optional' },
  invitation: {
    fullName: 'required',
    role: 'required',
    acceptUrl: 'required',
    token: 'required',
    expiresInDays: 'required',
    invitedBy: 'optional',
    linkExpiresAt: 'optional',
  },
  'password-reset': { fullName: 'optional', resetUrl: 'required', token: 'required', expiresInMinutes: 'required', linkExpiresAt: 'optional' },
  'application-submitted': {
    fullName: 'required',
    reference: 'required',
    applicationUrl: 'required',
    submittedAt: 'required',
  },
  'info-requested': { fullName: 'required', reference: 'required', applicationUrl: 'required' },
  'application-approved': { fullName: 'required', reference: 'required', amount: 'required', applicationUrl: 'required' },
  'application-rejected': { fullName: 'required', reference: 'required', reason: 'required', applicationUrl: 'required' },
  'tranche-paid': {
    fullName: 'required',
    reference: 'required',
    trancheReference: 'required',
    amount: 'required',
    paidOn: 'required',
    hospitalName: 'required',
    applicationUrl: 'required',
  },
  'tranche-paid-hospital': {
    fullName: 'required',
    hospitalName: 'required',
    trancheReference: 'required',
    amount: 'required',
    paidOn: 'required',
    bankReference: 'required',
    hospitalId: 'optional',
  },
  'grant-cancelled': {
    fullName: 'required',
    reference: 'required',
    paidAmount: 'required',
    cancelledAmount: 'required',
    reason: 'required',
    hospitalName: 'required',
    applicationUrl: 'required',
  },
  'tranche-cancelled': {
    fullName: 'required',
    reference: 'required',
    trancheReference: 'required',
    amount: 'required',
    reason: 'required',
    hospitalName: 'required',
    applicationUrl: 'required',
  },
  'tranche-cancelled-hospital': { fullName: 'required', hospitalName: 'required', count: 'required', total: 'required', tranches: 'required', hospitalId: 'optional' },
  'info-answered': { fullName: 'required', reference: 'required', applicationUrl: 'required', requestedAt: 'required', submittedAt: 'required' },
  'payees-outdated': { fullName: 'required', hospitalName: 'required', count: 'required', total: 'required', tranches: 'required', more: 'required' },
  'tranche-returned': {
    fullName: 'required',
    reference: 'required',
    trancheReference: 'required',
    amount: 'required',
    paidOn: 'required',
    returnedOn: 'required',
    payAgain: 'required',
    hospitalName: 'required',
    applicationUrl: 'required',
  },
  'tranche-returned-hospital': {
    fullName: 'required',
    hospitalName: 'required',
    trancheReference: 'required',
    amount: 'required',
    paidOn: 'required',
    bankReference: 'required',
    returnedOn: 'required',
    reason: 'required',
    payAgain: 'required',
    hospitalId: 'optional',
  },
  'reconciliation-exceptions': {
    fullName: 'required',
    hospitalName: 'required',
    statementId: 'required',
    mismatched: 'required',
    unmatched: 'required',
    duplicates: 'required',
    statementUrl: 'required',
    hospitalId: 'optional',
  },
  'reviewer-digest': {
    fullName: 'required',
    waitingDays: 'required',
    count: 'required',
    items: 'required',
    inReviewCount: 'optional',
    inReview: 'optional',
    secondApprovalCount: 'optional',
    secondApprovals: 'optional',
    queueUrl: 'required',
  },
};
