// The contract every input keeps. A source turns the outside world into readings; it never
// throws at the agent: what it cannot turn into a reading it hands back as a rejection.
import type { Reading } from '../stream/reading.js';
import type { Rejection } from '../stream/rejection.js';

export interface SourceSink {
  reading(reading: Reading): void;
  reject(rejection: Rejection): void;
  /**
   * Backpressure: undefined when the agent keeps up; otherwise a promise that resolves once it
   * has caught up. Sources that can slow their producer (MQTT: by not acknowledging yet) wait.
   */
  ready(): Promise<void> | undefined;
  /** Resolves once everything handed over so far is durable (acknowledge QoS 1 only then). */
  durable(): Promise<void>;
  /** A device's firmware said it is online or offline (its availability topic), at `at` (epoch ms). */
  availability(device: string, online: boolean, at: number): void;
}

export interface Source {
  /** For logs and metrics, e.g. "mqtt:sensors/#". */
  readonly name: string;
  start(sink: SourceSink): Promise<void>;
  /** Lets go of its input; idempotent (a second stop, or one without a start, does nothing). */
  stop(): Promise<void>;
  /** JSON-safe state for health: at least whether it is running. */
  health(): { running: boolean } & Record<string, unknown>;
  /** Hands a message this source once received back to it, as if it arrived now (dead-letter replay). */
  redeliver?(topic: string, payload: Buffer): void;
}

/** Wall clock in epoch milliseconds; injected so tests can control time. */
export type Clock = () => number;
