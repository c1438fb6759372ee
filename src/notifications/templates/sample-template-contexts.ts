import { TemplateContexts, TemplateName } from 'src/notifications/templates/template-contexts';

/** One realistic context per template, for specs and for previewing the emails. */
export const SAMPLE_TEMPLATE_CONTEXTS: { [N in TemplateName]: TemplateContexts[N] } = {
  'email-verification': {
    fullName: '李梅',
    verifyUrl: 'https://sprout.example.org/verify-email?token=k7Qe2xVb9pLm',
    token: 'k7Qe2xVb9pLm',
    expiresInHours: 24,
  },
  invitation: {
    fullName: 'Zhang Wei',
    role: 'hospital_finance',
    acceptUrl: 'https://sprout.example.org/accept-invite?token=Yt3nW8cRa1Zs',
    token: 'Yt3nW8cRa1Zs',
    expiresInDays: 7,
    invitedBy: 'Chen Jing',
  },
  'password-reset': {
    fullName: '李梅',
    resetUrl: 'https://sprout.example.org/reset-password?token=Pq4sD7fGh2Jk',
    token: 'Pq4sD7fGh2Jk',
    expiresInMinutes: 30,
  },
  'application-submitted': {
    fullName: '李梅',
    reference: 'SPR-2026-000123',
    applicationUrl: 'https://sprout.example.org/applications/SPR-2026-000123',
    submittedAt: '2026-09-03T02:15:00Z',
  },
  'info-requested': {
    fullName: '李梅',
    reference: 'SPR-2026-000123',
    message: 'Please upload the household register page that shows the child.\nA clear photo is fine.',
    applicationUrl: 'https://sprout.example.org/applications/SPR-2026-000123',
  },
  'application-approved': {
    fullName: '李梅',
    reference: 'SPR-2026-000123',
    amount: 10000000,
    applicationUrl: 'https://sprout.example.org/applications/SPR-2026-000123',
  },
  'application-rejected': {
    fullName: '李梅',
    reference: 'SPR-2026-000123',
    reason: 'The expected reimbursement already covers the estimated cost.',
    applicationUrl: 'https://sprout.example.org/applications/SPR-2026-000123',
  },
  'tranche-paid': {
    fullName: '李梅',
    reference: 'SPR-2026-000123',
    trancheReference: 'SPR-2026-000123-1',
    amount: '5000000',
    paidOn: '2026-09-20',
    hospitalName: '上海儿童医学中心',
    applicationUrl: 'https://sprout.example.org/applications/SPR-2026-000123',
  },
  'tranche-paid-hospital': {
    fullName: 'Zhang Wei',
    hospitalName: '上海儿童医学中心',
    trancheReference: 'SPR-2026-000123-1',
    amount: 5000000,
    paidOn: '2026-09-20',
    bankReference: 'ICBC20260920-88412',
  },
  'reconciliation-exceptions': {
    fullName: 'Zhang Wei',
    hospitalName: '上海儿童医学中心',
    statementId: 'a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b',
    mismatched: 1,
    unmatched: 2,
    duplicates: 0,
    statementUrl: 'https://sprout.example.org/reconciliation/statements/a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b',
  },
  'reviewer-digest': {
    fullName: 'Chen Jing',
    waitingDays: 3,
    count: 2,
    items: [
      { reference: 'SPR-2026-000117', submittedAt: '2026-08-28T09:30:00Z', waitingDays: 6, tier: 'A' },
      { reference: 'SPR-2026-000120', submittedAt: '2026-08-30T16:45:00Z', waitingDays: 4 },
    ],
    queueUrl: 'https://sprout.example.org/review/queue',
  },
};
