// The drain lanes, anomalies, then events, then summaries, each read in seq order from the outbox (then
// from the store's memory lane while it cannot commit). Before rows go out the handed-over
// mark is raised durably, so compaction never rewrites a row that may have reached the broker
// without its PUBACK. A transient refusal rewinds a lane; a read in flight during a rewind is
// discarded (its generation is stale).
import { MESSAGE_KINDS, type MessageKind, type Outbox, type OutboxRow } from '../../store/outbox.js';
import type { MemoryLane } from './uplink-types.js';
import type { Logger } from '../../ops/logger.js';

interface Lane {
  cursor: number;
  buffer: OutboxRow[];
  at: number;
  /** The last reads found nothing new: skip until woken. */
  exhausted: boolean;
  /** Bumped when the lane is rewound (a transient refusal): a read in flight is discarded. */
  generation: number;
}

export interface DrainLanes {
  /**
   * The next row to send, anomalies first; undefined when there is none, or when `live()` says
   * the connection went while reading. `skip`: rows acknowledged or in flight already.
   */
  next(live: () => boolean, skip: (seq: number) => boolean): Promise<OutboxRow | undefined>;
  /** From the oldest undelivered row again (a new connection). */
  reset(): void;
  /** Read this class again from before `seq` (it was refused for now). */
  rewind(kind: MessageKind, seq: number): void;
  /** New rows were queued; `priority`: anomalies, replies or events among them. */
  wake(priority: boolean): void;
  /** Every lane found nothing new at its last read. */
  exhausted(): boolean;
}

export function createDrainLanes(o: { outbox: Outbox; memory?: MemoryLane; readRows: number; log: Logger; onRead: (kind: MessageKind, upTo: number) => void }): DrainLanes {
  const fresh = (generation: number): Lane => ({ cursor: 0, buffer: [], at: 0, exhausted: false, generation });
  const lanes: Record<MessageKind, Lane> = { anomaly: fresh(0), reply: fresh(0), event: fresh(0), summary: fresh(0) };
  return {
    async next(live, skip) {
      for (const kind of MESSAGE_KINDS) {
        const lane = lanes[kind];
        while (lane.at >= lane.buffer.length && !lane.exhausted) {
          const generation = lane.generation;
          let rows = await o.outbox.readAfter(kind, lane.cursor, o.readRows);
          if (!live()) return undefined;
          if (lane.generation !== generation) continue; // rewound while reading: read again
          if (rows.length === 0) rows = o.memory?.unwritten(kind, lane.cursor, o.readRows) ?? [];
          if (rows.length === 0) {
            lane.exhausted = true;
            break;
          }
          const last = rows[rows.length - 1]!.seq;
          // markHanded returns at once when the mark on disk is already past `last`; after a
          // failed write it writes again. A store that cannot write keeps the mark in memory
          // (it cannot compact either) and sending goes on: delivery matters more. (Rows held
          // in memory are not in the outbox; the mark covers them harmlessly.)
          await o.outbox.markHanded(kind, last).catch((err: Error) => o.log.debug({ err: err.message }, 'could not record the handed-over mark yet'));
          if (!live()) return undefined;
          if (lane.generation !== generation) continue; // rewound meanwhile: read again
          lane.cursor = last;
          o.onRead(kind, last);
          lane.buffer = rows.filter((r) => !skip(r.seq));
          lane.at = 0;
        }
        if (lane.at < lane.buffer.length) return lane.buffer[lane.at++];
      }
      return undefined;
    },
    reset() {
      for (const kind of MESSAGE_KINDS) lanes[kind] = fresh(lanes[kind].generation + 1);
    },
    rewind(kind, seq) {
      const lane = lanes[kind];
      lane.cursor = Math.min(lane.cursor, seq - 1);
      lane.buffer = [];
      lane.at = 0;
      lane.exhausted = false;
      lane.generation++;
    },
    wake(priority) {
      lanes.summary.exhausted = false;
      if (priority) lanes.anomaly.exhausted = lanes.reply.exhausted = lanes.event.exhausted = false;
    },
    exhausted: () => MESSAGE_KINDS.every((kind) => lanes[kind].exhausted),
  };
}
