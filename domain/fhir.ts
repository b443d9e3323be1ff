/**
 * Our plain status names → FHIR R4 value sets, written down once. The API reports both.
 * Appointment: http://hl7.org/fhir/R4/valueset-appointmentstatus.html
 */
import type { BookingStatus } from './booking';

export type FhirAppointmentStatus =
  'proposed' | 'pending' | 'booked' | 'arrived' | 'fulfilled' | 'cancelled' | 'noshow' | 'entered-in-error' | 'checked-in' | 'waitlist';

const APPOINTMENT: Record<BookingStatus, FhirAppointmentStatus> = {
  offered: 'proposed', // a waitlist offer the patient has not accepted yet
  held: 'pending', // the slot is held, waiting for the patient's confirmation
  booked: 'booked',
  arrived: 'arrived',
  fulfilled: 'fulfilled',
  cancelled: 'cancelled',
  noshow: 'noshow',
  expired: 'cancelled', // a hold nobody confirmed: FHIR has no separate status for it
};

export function fhirAppointmentStatus(status: BookingStatus): FhirAppointmentStatus {
  return APPOINTMENT[status];
}
