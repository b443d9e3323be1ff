import { type Kysely, sql } from 'kysely';

/**
 * Every inbound lab message, kept raw (bytes, SHA-256) with its transport, sender, the ACK sent
 * and what became of it; control ids claimed per sender (MSH-3 + MSH-4), so a different message
 * under a used id is told apart from an identical resend. Unmatched messages wait in this table
 * (status 'unmatched') for a lab supervisor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE lab_messages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    received_at timestamptz NOT NULL DEFAULT now(),
    transport text NOT NULL CHECK (transport IN ('http', 'mllp')),
    sending_application text NOT NULL,
    sending_facility text NOT NULL,
    caller text,
    peer text,
    clinic_id uuid REFERENCES clinics(id),
    control_id text NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes integer NOT NULL,
    raw bytea NOT NULL,
    status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'filed', 'refused', 'resent', 'unmatched', 'attached', 'rejected')),
    ack_code text CHECK (ack_code IN ('AA', 'AE', 'AR')),
    ack text,
    reason text,
    problems jsonb NOT NULL DEFAULT '[]',
    placer_order_id text,
    lab_order_id uuid REFERENCES lab_orders(id),
    answered_at timestamptz,
    resolved_by text,
    resolved_at timestamptz,
    resolution text CHECK (resolution IN ('attached', 'rejected')),
    resolution_reason text
  )`.execute(db);
  await sql`CREATE INDEX lab_messages_unmatched_idx ON lab_messages (clinic_id, received_at) WHERE status = 'unmatched'`.execute(db);
  await sql`CREATE INDEX lab_messages_resolved_idx ON lab_messages (resolved_at DESC) WHERE resolved_at IS NOT NULL`.execute(db);
  await sql`CREATE INDEX lab_messages_order_idx ON lab_messages (lab_order_id) WHERE lab_order_id IS NOT NULL`.execute(db);
  await sql`CREATE TABLE lab_message_control_ids (
    sending_application text NOT NULL,
    sending_facility text NOT NULL,
    control_id text NOT NULL,
    message_id uuid NOT NULL REFERENCES lab_messages(id),
    sha256 text NOT NULL,
    PRIMARY KEY (sending_application, sending_facility, control_id)
  )`.execute(db);
}
