/** Where an MQTT source gets its messages: the embedded broker's tap, or a client of another broker. */
export interface MessageFeed {
  /**
   * Calls `onMessage` for every message matching `filter` (or any of several); resolves to an
   * unsubscribe function. When `onMessage` returns a promise, the feed holds that message's
   * acknowledgement (and so the sender) until it settles. `stale`: a retained message replayed
   * from before this session (old state, not a new reading; availability still counts).
   * `onRefused`: a message under `filter` that the broker refused before it could be read (a
   * topic with wildcards or too many levels), to be dead-lettered.
   */
  subscribe(
    filter: string | readonly string[],
    onMessage: (topic: string, payload: Buffer, qos: 0 | 1 | 2, stale?: boolean) => void | Promise<void>,
    onRefused?: (topic: string, detail: string) => void,
  ): Promise<() => Promise<void>>;
}
