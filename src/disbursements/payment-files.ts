import { Disbursement } from 'src/disbursements/disbursement.entity';
import { TrancheInPaymentFileException } from 'src/disbursements/disbursements.exceptions';

/**
 * The scheduled tranches among `tranches` that went out in a payment file. Refuses (409) to cancel or repoint them
 * unless the caller says the bank has not paid them and will not (`notSentToBank`): the bank would pay the file anyway,
 * while a cancelled tranche's money went back to the fund, or a repointed one was paid again to the new account.
 */
export function inPaymentFiles(tranches: Disbursement[], dto: { notSentToBank?: boolean }): Disbursement[] {
  const inFile = tranches.filter((t) => t.status === 'scheduled' && t.exportedAt);
  if (inFile.length && dto.notSentToBank !== true) {
    throw new TrancheInPaymentFileException(inFile.map((t) => ({ reference: t.reference, exportedAt: t.exportedAt as Date })));
  }
  return inFile;
}
