import { birthDateFromNationalId, hasValidCheckCharacter } from 'src/applications/national-id';
import { ApplicationState } from 'src/applications/application-sections';
import { todayInChina } from 'src/applications/dto/field-validators';
import type { FieldError } from 'src/common/problem/problem.exception';

/** Completed years from a birth date to a date, both YYYY-MM-DD. */
export function completedYears(birthDate: string, onDate: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number);
  const [y, m, d] = onDate.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/**
 * Plausibility warnings: saved anyway (the family may be right, or fix it on the next visit), shown with the
 * application, and weighed by the reviewer. None of them blocks a submission.
 *
 * `ageLimit` is the means policy's `manualReview.maxPatientAgeYears` of the application's latest assessment, so the
 * family is warned exactly when the reviewer sees `patient_over_age` (null: no assessment to take it from, no warning).
 */
export function applicationWarnings(state: ApplicationState, ageLimit: number | null, now: Date = new Date(), firstSubmittedAt: Date | null = null): FieldError[] {
  const warnings: FieldError[] = [];
  const dob = state.patient.dateOfBirth;
  // The age on the day the family first applied, as the means assessment counts it: a child who turns 19 while the
  // case waits for an answer to a reviewer's question is not told otherwise than the reviewer sees.
  if (dob && ageLimit !== null && completedYears(dob, todayInChina(firstSubmittedAt ?? now)) > ageLimit) {
    warnings.push({
      field: 'patient.dateOfBirth',
      message: `the patient is older than ${ageLimit}; the fund is for children, so a reviewer will look at this case by hand`,
    });
  }
  if (state.patientNationalId) {
    const idBirthDate = birthDateFromNationalId(state.patientNationalId, now);
    if (dob && idBirthDate && idBirthDate !== dob) {
      warnings.push({ field: 'patient.dateOfBirth', message: 'differs from the birth date in patient.nationalId' });
    }
    const sex = state.patient.sex;
    // The 17th character is odd for men and even for women (GB 11643).
    const idSex = Number(state.patientNationalId[16]) % 2 === 1 ? 'male' : 'female';
    if (sex && sex !== idSex) warnings.push({ field: 'patient.sex', message: 'differs from the sex encoded in patient.nationalId' });
  }
  // A mistyped id would also keep the fund from noticing another application for the same child.
  for (const [field, id] of [['patient.nationalId', state.patientNationalId], ['guardian.nationalId', state.guardianNationalId]] as const) {
    if (id && !hasValidCheckCharacter(id)) {
      warnings.push({ field, message: 'its last character does not fit the other 17 (GB 11643 check character): please check the number against the card' });
    }
  }
  if (state.patientNationalId && state.guardianNationalId && state.patientNationalId === state.guardianNationalId) {
    warnings.push({ field: 'guardian.nationalId', message: "is the same as the patient's" });
  }
  const diagnosedOn = state.medical.diagnosedOn;
  if (dob && diagnosedOn && diagnosedOn < dob) {
    warnings.push({ field: 'medical.diagnosedOn', message: 'is before patient.dateOfBirth' });
  }
  return warnings;
}
