import type { Role } from 'src/common/auth/roles';

export type Visibility = {
  /** patient (beyond the name), guardian, household, medical and consents. */
  sections: boolean;
  /** The decrypted national ids of patient and guardian. */
  nationalIds: boolean;
  /** The means-assessment outcome: tier and recommended amount. */
  assessmentOutcome: boolean;
  /** Uploaded documents (diagnoses, household register, poverty certificates). */
  documents: boolean;
};

/**
 * What each role may read of an application it can see (PIPL: only what the task needs). The family sees
 * all of its own; reviewers and admins need everything to decide; fund finance pays tranches and plans the
 * fund, so it sees the outcome but no household, medical or id detail; hospital finance matches payouts
 * and sees the reference, status and patient's name only.
 */
export const VISIBILITY: Record<Role, Visibility> = {
  applicant: { sections: true, nationalIds: true, assessmentOutcome: true, documents: true },
  reviewer: { sections: true, nationalIds: true, assessmentOutcome: true, documents: true },
  admin: { sections: true, nationalIds: true, assessmentOutcome: true, documents: true },
  fund_finance: { sections: false, nationalIds: false, assessmentOutcome: true, documents: false },
  hospital_finance: { sections: false, nationalIds: false, assessmentOutcome: false, documents: false },
};
