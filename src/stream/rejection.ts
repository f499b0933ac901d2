// Why an input was not turned into a reading. Every rejection is kept in the dead-letter
// table with its reason, counted by reason, and never crashes or silently drops anything.

export const REJECT_REASONS = [
  'payload-too-large',
  'bad-json',
  'bad-format',
  'not-a-number',
  'non-finite',
  'value-out-of-range',
  'bad-timestamp',
  'future-timestamp',
  'bad-senml',
  'bad-sensor-id',
  'sensor-id-too-long',
  'too-many-sensors',
  'clock-untrusted',
  'bad-topic',
  'internal-error',
  'upstream-refused',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Problem {
  reason: RejectReason;
  detail: string;
}

export interface Rejection extends Problem {
  source: string;
  receivedAt: number;
  topic?: string;
  /** The offending input, as received (the agent keeps a bounded prefix). */
  payload?: Uint8Array | string;
}
