import { MEANS_POLICY_VERSION_1 } from '../../migrations/1763700001000-Applications';
import { DEFAULT_MEANS_POLICY, validateMeansPolicy } from 'src/assessment/means-policy';

describe('the seeded means policy (version 1)', () => {
  it('is valid and equals the defaults of DESIGN.md (a later change of defaults must be a new version)', () => {
    expect(validateMeansPolicy(MEANS_POLICY_VERSION_1)).toEqual([]);
    expect(MEANS_POLICY_VERSION_1).toEqual(DEFAULT_MEANS_POLICY);
  });
});
