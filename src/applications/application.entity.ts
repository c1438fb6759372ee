import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type {
  ConsentName,
  Diagnosis,
  HukouType,
  Relationship,
  Sex,
  StatusFlag,
  TreatmentPlan,
} from 'src/applications/application-fields';
import type { ApplicationStatus } from 'src/applications/application-status';
import { fenTransformer } from 'src/assessment/fen.transformer';
import type { MeansTier } from 'src/assessment/means-assessment';

/** The jsonb sections hold no national id: those live in the encrypted columns below. */
export interface PatientSection {
  fullName?: string;
  sex?: Sex;
  dateOfBirth?: string;
  region?: string;
  hukouType?: HukouType;
}

export interface GuardianSection {
  fullName?: string;
  relationship?: Relationship;
  phone?: string;
}

export interface HouseholdSection {
  size?: number;
  annualIncome?: number;
  liquidAssets?: number;
  debts?: number;
  ownsVehicle?: boolean;
  ownsExtraProperty?: boolean;
  statusFlags?: StatusFlag[];
}

export interface MedicalSection {
  diagnosis?: Diagnosis;
  icd10?: string;
  diagnosedOn?: string;
  anc?: number;
  platelets?: number;
  reticulocytes?: number;
  treatmentPlan?: TreatmentPlan;
  estimatedCost?: number;
  expectedReimbursement?: number;
  otherAid?: number;
}

/** PIPL: a consent is kept with when it was given or withdrawn and which version of the text was shown. */
export interface ConsentRecord {
  given: boolean;
  recordedAt: string;
  textVersion: string;
}
export type ConsentRecords = Partial<Record<ConsentName, ConsentRecord>>;

@Entity('applications')
export class Application {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column() reference: string;
  @Column({ type: 'uuid' }) applicantId: string;
  @Column({ type: 'uuid', nullable: true }) hospitalId: string | null;
  @Column({ type: 'text' }) status: ApplicationStatus;
  @Column({ type: 'int' }) version: number;
  @Column({ type: 'jsonb' }) patient: PatientSection;
  @Column({ type: 'jsonb' }) guardian: GuardianSection;
  @Column({ type: 'jsonb' }) household: HouseholdSection;
  @Column({ type: 'jsonb' }) medical: MedicalSection;
  @Column({ type: 'jsonb' }) consents: ConsentRecords;
  /** AES-256-GCM token (FieldCipher); never leaves the service undecrypted or unfiltered. */
  @Column({ type: 'text', nullable: true, select: false }) patientNationalIdEnc: string | null;
  /** HMAC-SHA256 of the normalized id, for duplicate-child look-ups. */
  @Column({ type: 'text', nullable: true, select: false }) patientNationalIdHash: string | null;
  @Column({ type: 'text', nullable: true, select: false }) guardianNationalIdEnc: string | null;
  @Column({ type: 'timestamptz', nullable: true }) submittedAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) firstSubmittedAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) withdrawnAt: Date | null;
  @Column({ type: 'text', nullable: true }) assessmentTier: MeansTier | null;
  @Column({ type: 'bigint', nullable: true, transformer: fenTransformer }) recommendedAmount: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
