import { plainToInstance } from 'class-transformer';
import { CONSENT_TEXT_VERSION } from 'src/applications/application-fields';
import { EMPTY_STATE, mergeInput } from 'src/applications/application-sections';
import { ApplicationInputDto } from 'src/applications/dto/application-input.dto';

// As the validation pipe hands it over: class instances whose absent fields are own `undefined` properties.
const input = (plain: object) => plainToInstance(ApplicationInputDto, plain);
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-02T00:00:00Z');

describe('mergeInput', () => {
  it('keeps fields left out and replaces the ones given', () => {
    const first = mergeInput(EMPTY_STATE, input({ patient: { fullName: 'A', sex: 'male' }, household: { size: 3 } }), t0);
    const second = mergeInput(first.state, input({ patient: { sex: 'female' } }), t1);
    expect(second.state.patient).toEqual({ fullName: 'A', sex: 'female' });
    expect(second.state.household).toEqual({ size: 3 });
    expect(second.changed).toEqual(['patient.sex']);
  });

  it('clears a field given as null, and a whole section given as null', () => {
    const first = mergeInput(EMPTY_STATE, input({ patient: { fullName: 'A', nationalId: '310101201905010015' }, medical: { anc: 0.3, otherAid: 0 } }), t0);
    const second = mergeInput(first.state, input({ patient: { nationalId: null }, medical: null }), t1);
    expect(second.state.patientNationalId).toBeNull();
    expect(second.state.patient).toEqual({ fullName: 'A' });
    expect(second.state.medical).toEqual({});
    expect(second.changed.sort()).toEqual(['medical.anc', 'medical.otherAid', 'patient.nationalId']);
  });

  it('never puts a national id into a section', () => {
    const { state } = mergeInput(EMPTY_STATE, input({ patient: { nationalId: '310101201905010015' }, guardian: { nationalId: '310101198801010024' } }), t0);
    expect(state.patient).toEqual({});
    expect(state.guardian).toEqual({});
    expect(state.patientNationalId).toBe('310101201905010015');
    expect(state.guardianNationalId).toBe('310101198801010024');
  });

  it('records consents with their time and text version, and keeps the first record when repeated', () => {
    const first = mergeInput(EMPTY_STATE, input({ consents: { sensitiveData: true, publicDisclosure: false } }), t0);
    expect(first.state.consents).toEqual({
      sensitiveData: { given: true, recordedAt: t0.toISOString(), textVersion: CONSENT_TEXT_VERSION },
      publicDisclosure: { given: false, recordedAt: t0.toISOString(), textVersion: CONSENT_TEXT_VERSION },
    });
    const again = mergeInput(first.state, input({ consents: { sensitiveData: true } }), t1);
    expect(again.state.consents.sensitiveData?.recordedAt).toBe(t0.toISOString());
    expect(again.changed).toEqual([]);
    const withdrawn = mergeInput(first.state, input({ consents: { sensitiveData: null } }), t1);
    expect(withdrawn.state.consents.sensitiveData).toEqual({ given: false, recordedAt: t1.toISOString(), textVersion: CONSENT_TEXT_VERSION });
  });

  it('does not change the state it was given', () => {
    const first = mergeInput(EMPTY_STATE, input({ household: { statusFlags: ['dibao'] } }), t0);
    const snapshot = JSON.stringify(first.state);
    mergeInput(first.state, input({ household: { statusFlags: [], size: 2 }, hospitalId: '3f1d2c4e-1111-4222-8333-444455556666' }), t1);
    expect(JSON.stringify(first.state)).toBe(snapshot);
    expect(JSON.stringify(EMPTY_STATE)).toBe(JSON.stringify({ hospitalId: null, patient: {}, guardian: {}, household: {}, medical: {}, consents: {}, patientNationalId: null, guardianNationalId: null }));
  });

  it('reports a changed hospital and nothing for an identical one', () => {
    const id = '3f1d2c4e-1111-4222-8333-444455556666';
    const first = mergeInput(EMPTY_STATE, input({ hospitalId: id }), t0);
    expect(first.changed).toEqual(['hospitalId']);
    expect(mergeInput(first.state, input({ hospitalId: id }), t1).changed).toEqual([]);
  });
});
