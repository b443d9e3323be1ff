import { fhirAppointmentStatus } from './fhir';

describe('FHIR appointment status mapping', () => {
  test.each([
    ['offered', 'proposed'],
    ['held', 'pending'],
    ['booked', 'booked'],
    ['arrived', 'arrived'],
    ['fulfilled', 'fulfilled'],
    ['cancelled', 'cancelled'],
    ['noshow', 'noshow'],
    ['expired', 'cancelled'],
  ] as const)('our %s is FHIR %s', (ours, fhir) => {
    expect(fhirAppointmentStatus(ours)).toBe(fhir);
  });
});
