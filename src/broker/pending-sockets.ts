// Sockets that have not finished CONNECT yet. At most `cap` are kept: one more evicts the
// oldest, so a flood of idle sockets cannot lock real sensors out (their CONNECT takes
// milliseconds; an idle socket is the oldest long before that). Each is also dropped at the
// CONNECT deadline.

export interface PendingSockets<S> {
  /** A new socket; returns the socket evicted to make room, if any. */
  add(socket: S): S | undefined;
  /** The socket authenticated or closed. */
  remove(socket: S): void;
  readonly size: number;
}

export function createPendingSockets<S>(cap: number): PendingSockets<S> {
  const pending = new Set<S>(); // insertion order: oldest first
  return {
    add(socket) {
      let evicted: S | undefined;
      if (pending.size >= cap) {
        evicted = pending.values().next().value!;
        pending.delete(evicted);
      }
      pending.add(socket);
      return evicted;
    },
    remove: (socket) => void pending.delete(socket),
    get size() {
      return pending.size;
    },
  };
}
