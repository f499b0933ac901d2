/** Where an MQTT source gets its messages: the embedded broker's tap, or a client of another broker. */
export interface MessageFeed {
  /** Calls `onMessage` for every message matching `filter`; resolves to an unsubscribe function. */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}
