// Where commands wait for their runner. The uplink's persistent session delivers commands sent
// while the device was offline right after it connects, before the stream and the command
// runner have started (the uplink starts first so that whatever gets in can get out): they
// wait here, unacknowledged, and are handled in order once the runner is attached. With no
// runner (stopped), they are never acknowledged: the broker sends them again next time.
import type { MessageProperties } from '../../outputs/uplink/uplink-types.js';

type Handle = (topic: string, payload: Buffer, props: MessageProperties) => Promise<void>;

export interface CommandInbox {
  /** The uplink's listener for <prefix>/cmd/+ (QoS 1): resolves when the message may be acknowledged. */
  deliver(topic: string, payload: Buffer, props: MessageProperties): Promise<void>;
  attach(handle: Handle): void;
  detach(): void;
}

const MAX_WAITING = 1000;

export function createCommandInbox(): CommandInbox {
  let handler: Handle | undefined;
  let waiting: Array<{ topic: string; payload: Buffer; props: MessageProperties; done: () => void }> = [];
  return {
    deliver(topic, payload, props) {
      if (handler) return handler(topic, payload, props);
      if (waiting.length >= MAX_WAITING) return new Promise<void>(() => undefined); // never acknowledged: sent again
      return new Promise<void>((done) => waiting.push({ topic, payload, props, done }));
    },
    attach(handle) {
      handler = handle;
      const queued = waiting;
      waiting = [];
      void (async () => {
        for (const w of queued) await handle(w.topic, w.payload, w.props).then(w.done, w.done);
      })();
    },
    detach() {
      handler = undefined;
      // Waiting ones stay unacknowledged; the connection closes under them at stop.
    },
  };
}
