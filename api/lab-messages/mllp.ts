/**
 * HL7 v2 over MLLP (TCP), what a laboratory information system or analyzer speaks, served by the
 * API process with @medplum/hl7's Hl7Server. Every frame goes through the same intake as
 * `POST /lab-results/hl7v2` and gets its ACK on the same connection, in order. MLLP carries no
 * credentials: a peer must be allowed (MLLP_PEERS) and its MSH-4 must be a configured lab
 * (MLLP_SENDERS, facility → clinic). A refusal never closes the connection; only a frame past
 * the hard cap (a sender streaming without end) does.
 */
import { Hl7Message } from '@medplum/core';
import { Hl7Server, type Hl7Connection } from '@medplum/hl7';
import { isLoopbackHost } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { portInUse } from '../../platform/ports';
import { MAX_MESSAGE_BYTES } from '../../domain/hl7-intake';
import { buildIntakeAck } from './ack';
import { intakeLabMessage, type IntakeDeps, type SenderScope } from './intake';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
/** A frame this long without its end is not a message: the connection is closed. Below it, oversize is refused with AR. */
export const MLLP_HARD_CAP_BYTES = 4 * MAX_MESSAGE_BYTES;

export interface MllpOptions {
  port: number;
  /** MSH-4 (first component) → the lab clinic it posts for. */
  senders: Readonly<Record<string, string>>;
  /** 'loopback', '*', or addresses. */
  peers: readonly string[];
}

export interface MllpServer {
  port: number;
  stop(): Promise<void>;
}

/** Splits a byte stream into MLLP frames (VT … FS CR); bytes outside a frame are dropped. */
export class MllpFramer {
  private parts: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  private pendingFs = false;

  constructor(private readonly cap: number) {}

  /** The frames completed by this chunk; `overflow` when a frame passed the cap. */
  push(chunk: Buffer): { frames: Buffer[]; overflow: boolean } {
    const frames: Buffer[] = [];
    let pos = 0;
    if (this.pendingFs) {
      this.pendingFs = false;
      if (chunk[0] === CR) {
        frames.push(this.take());
        pos = 1;
      } else this.append(Buffer.from([FS]));
    }
    while (pos < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(VT, pos);
        if (start < 0) break;
        this.inFrame = true;
        pos = start + 1;
        continue;
      }
      const fs = chunk.indexOf(FS, pos);
      if (fs < 0) {
        this.append(chunk.subarray(pos));
        break;
      }
      this.append(chunk.subarray(pos, fs));
      if (fs + 1 === chunk.length) {
        this.pendingFs = true;
        break;
      }
      if (chunk[fs + 1] === CR) {
        frames.push(this.take());
        pos = fs + 2;
      } else {
        this.append(chunk.subarray(fs, fs + 1));
        pos = fs + 1;
      }
    }
    return { frames, overflow: this.size > this.cap };
  }

  private append(b: Buffer) {
    if (!b.length) return;
    this.parts.push(Buffer.from(b));
    this.size += b.length;
  }

  private take(): Buffer {
    const frame = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    this.inFrame = false;
    return frame;
  }
}

export function peerAllowed(peers: readonly string[], address: string | undefined): boolean {
  if (peers.includes('*')) return true;
  const a = (address ?? '').replace(/^::ffff:/i, '');
  return (peers.includes('loopback') && isLoopbackHost(a)) || peers.includes(a);
}

/** The sender's scope from MSH-4's first component: the configured lab clinic, or none (not trusted). */
export const mllpScope =
  (senders: Readonly<Record<string, string>>) =>
  (s: { sendingFacility: string }): SenderScope | null => {
    const facility = s.sendingFacility.split('^')[0]!.trim();
    const clinicId = Object.hasOwn(senders, facility) ? senders[facility] : undefined;
    return clinicId ? { clinicIds: [clinicId] } : null;
  };

/** Starts the MLLP listener (all interfaces: Hl7Server binds no host; MLLP_PEERS and the network decide who connects). */
export async function startMllpServer(deps: IntakeDeps & { logger: Logger }, opts: MllpOptions): Promise<MllpServer> {
  if (await portInUse(opts.port)) throw new Error(`MLLP_PORT ${opts.port} is in use`);
  const scopeFor = mllpScope(opts.senders);
  const server = new Hl7Server((connection: Hl7Connection) => {
    const socket = connection.socket;
    const peer = socket.remoteAddress ?? null;
    if (!peerAllowed(opts.peers, peer ?? undefined)) {
      deps.logger.warn({ transport: 'mllp' }, 'mllp peer not allowed; connection closed');
      socket.destroy();
      return;
    }
    // Hl7Connection parses what it reads too; answers come from our framing (raw bytes for the store, every frame answered).
    connection.addEventListener('error', () => undefined);
    const framer = new MllpFramer(MLLP_HARD_CAP_BYTES);
    let queue: Promise<void> = Promise.resolve();
    const send = (ack: string) => {
      if (!socket.destroyed) connection.send(Hl7Message.parse(ack));
    };
    socket.on('data', (chunk: Buffer) => {
      const { frames, overflow } = framer.push(chunk);
      for (const frame of frames) {
        queue = queue.then(async () => {
          try {
            send((await intakeLabMessage(deps, { raw: frame, transport: 'mllp', caller: null, peer, scopeFor })).ack);
          } catch (err) {
            deps.logger.error(
              { err: (err as Error).name, transport: 'mllp' },
              'lab message intake failed; answered AE, the sender resends',
            );
            const text = frame.subarray(0, 4096).toString('utf8');
            send(
              buildIntakeAck(text, {
                code: 'AE',
                reason: 'application internal error: not taken, resend later',
                at: new Date().toISOString(),
                problems: [{ code: 'unavailable', message: 'the engine could not take the message now; resend it' }],
                ackControlId: `E${Date.now()}`,
                controlId: /^MSH\|[^\r]*/.exec(text)?.[0].split('|')[9] ?? '',
              }),
            );
          }
        });
      }
      if (overflow) {
        deps.logger.warn({ transport: 'mllp' }, 'mllp frame past the hard cap; connection closed');
        socket.destroy();
      }
    });
  });
  server.start(opts.port);
  const net = server.server!;
  await new Promise<void>((resolve, reject) => {
    if (net.listening) return resolve();
    net.once('listening', () => resolve());
    net.once('error', reject);
  });
  const port = (net.address() as { port: number }).port;
  deps.logger.info({ port }, 'mllp listening');
  return { port, stop: () => server.stop({ forceDrainTimeoutMs: 2000 }) };
}
