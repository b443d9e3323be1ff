/** Contact points, the on-call roster, deliveries and the in-app inbox (issue 23). */
import type { Generated } from 'kysely';
import type { CreatedAt, Timestamp } from './columns';

export type ContactChannel = 'email' | 'sms' | 'app';
export type DeliveryChannel = ContactChannel | 'ops';
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';

export interface ContactPointsTable {
  owner_type: 'patient' | 'practitioner';
  owner_id: string;
  channel: ContactChannel;
  address: string | null;
  consent: boolean;
  preferred: Generated<boolean>;
  updated_by: string;
  updated_at: Generated<Date>;
}

export interface OnCallRosterTable {
  id: Generated<string>;
  clinic_id: string;
  department: string;
  role: 'covering' | 'head' | 'onboarding-lead';
  practitioner_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  created_by: string;
  created_at: CreatedAt;
  removed_at: Timestamp | null;
}

export interface DeliveriesTable {
  id: Generated<string>;
  dedupe_key: string;
  message_key: string;
  kind: string;
  recipient_type: 'patient' | 'practitioner' | 'ops';
  recipient_id: string | null;
  channel: DeliveryChannel;
  address: string | null;
  status: DeliveryStatus;
  reason: string | null;
  attempts: Generated<number>;
  provider_id: string | null;
  appointment_id: string | null;
  lab_order_id: string | null;
  referral_id: string | null;
  decided_at: Timestamp;
  not_before: Timestamp | null;
  queued_at: Generated<Date>;
  sent_at: Timestamp | null;
  delivered_at: Timestamp | null;
  failed_at: Timestamp | null;
}

export interface InboxMessagesTable {
  id: Generated<string>;
  delivery_key: string;
  recipient_type: 'patient' | 'practitioner';
  recipient_id: string;
  kind: string;
  subject: string;
  body: string;
  link: string | null;
  created_at: CreatedAt;
  read_at: Timestamp | null;
}

/** Messages to staff the referral and onboarding processes decided (db/migrations/2026_12_09_0300_staff_notifications.ts). */
export interface StaffNotificationsTable {
  id: Generated<string>;
  kind: string;
  clinic_id: string;
  practitioner_id: string | null;
  referral_id: string | null;
  dedupe_key: string;
  created_at: CreatedAt;
  dispatched_at: Timestamp | null;
}
