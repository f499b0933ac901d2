// The uplink's contract with the agent: its status (in health), the memory lane the store
// lends it while it cannot commit, and the forwarder's API and options.
import type { MessageKind, Outbox, OutboxRow } from '../../store/outbox.js';
import type { AgentConfig } from '../../config/load.js';
import type { Logger } from '../../ops/logger.js';
import type { MessageProperties } from './uplink-connection.js';

export type { MessageProperties };

export type UplinkState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface UplinkStatus {
  state: UplinkState;
  since: number;
  lastError: string | null;
  inflight: number;
  delivered: number;
  connects: number;
  /** MQTT version of the current (or last) connection: "5" or "3.1.1". */
  protocol: string;
  /**
   * The highest seq the fleet broker acknowledged; at start, the seq below the oldest row still
   * in the outbox (everything before it was acknowledged before the restart).
   */
  lastSeqSent: number;
}

/** Messages held in memory by the store while it cannot commit (the group commit). */
export interface MemoryLane {
  unwritten(kind: MessageKind, afterSeq: number, limit: number): OutboxRow[];
  delivered(seq: number): void;
}

export interface Forwarder {
  start(): void;
  /** New messages were queued; `anomalies` of them are anomalies (checked first). */
  wake(anomalies?: number): void;
  /** Publishes outside the outbox (health); false when offline. */
  publishLive(subtopic: string, payload: string, retain: boolean): boolean;
  /**
   * The fleet broker connection for other outputs (Home Assistant discovery): publish outside
   * the topic prefix (QoS 1; false when offline), hear each (re)connect, and watch a topic.
   */
  live: LiveChannel;
  status(): UplinkStatus;
  /** Rows of `kind` with seq at or below this may be in flight or awaiting deletion: leave them alone. */
  claimed(kind: MessageKind): number;
  /** Stops sending, waits up to `timeoutMs` for in-flight PUBACKs, says `offline`, disconnects. */
  stop(timeoutMs: number): Promise<void>;
}

export interface LiveChannel {
  publish(topic: string, payload: string, retain: boolean): boolean;
  onConnect(listener: () => void): void;
  /**
   * Subscribes (QoS 0, or 1 on the persistent session); a QoS 1 message is acknowledged once
   * the listener's promise settles.
   */
  watch(filter: string, listener: (topic: string, payload: Buffer, props: MessageProperties) => void | Promise<void>, qos?: 0 | 1): void;
}

export interface ForwarderOptions {
  uplink: AgentConfig['uplink'];
  outbox: Outbox;
  memory?: MemoryLane;
  log: Logger;
  clock: () => number;
  onDelivered?: (count: number) => void;
  /**
   * The fleet broker refused a message for good (MQTT 5 PUBACK 0x87 not authorized, 0x90 topic
   * name invalid, 0x99 payload format invalid): keep it as a dead letter; its row is then
   * removed from the outbox like a delivered one.
   */
  onRefused?: (row: OutboxRow, why: string) => Promise<void> | void;
  /** The first backoff after a transient refusal (doubling per refusal of the same row); ms. */
  refusalBackoffMs?: number;
}

