/** Inbound lab messages (raw, hashed, with the ACK sent) and the control ids claimed per sender. */
import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, Timestamp } from './columns';

export type LabMessageStatus = 'received' | 'filed' | 'refused' | 'resent' | 'unmatched' | 'attached' | 'rejected';

export interface LabMessagesTable {
  id: Generated<string>;
  received_at: CreatedAt;
  transport: 'http' | 'mllp';
  sending_application: string;
  sending_facility: string;
  caller: string | null;
  peer: string | null;
  /** The receiving lab: the token's clinic (HTTP) or the sender's configured clinic (MLLP). */
  clinic_id: string | null;
  control_id: string;
  sha256: string;
  size_bytes: number;
  raw: Buffer;
  status: Generated<LabMessageStatus>;
  ack_code: 'AA' | 'AE' | 'AR' | null;
  ack: string | null;
  reason: string | null;
  problems: ColumnType<unknown, string | undefined, string>;
  placer_order_id: string | null;
  lab_order_id: string | null;
  answered_at: Timestamp | null;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
  resolution: 'attached' | 'rejected' | null;
  resolution_reason: string | null;
}

export interface LabMessageControlIdsTable {
  sending_application: string;
  sending_facility: string;
  control_id: string;
  message_id: string;
  sha256: string;
}
