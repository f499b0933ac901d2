/** One measurement, as every source delivers it to the stream. Times are epoch milliseconds. */
export interface Reading {
  sensor: string;
  /** Event time: the sensor's timestamp, or the agent's receive time when it sent none. */
  ts: number;
  value: number;
  /** Agent wall-clock time at receipt. */
  receivedAt: number;
  unit?: string;
  seq?: number;
  /** ts is the agent's receive time (the sensor sent none): it can only be as right as our clock. */
  stamped?: boolean;
}
