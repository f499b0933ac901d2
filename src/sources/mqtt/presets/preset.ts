// A firmware preset: the topics a firmware publishes on, how they become sensor ids, which of
// its fields are noise, where its time is, and where it says a device is online. Presets are
// wired explicitly (presets/index.ts), never registered by import.
import type { DecodeSettings, TopicDecoder } from '../topic-decoder.js';

export interface Preset {
  /** The firmware's root topic when the config gives no `base` ("" when devices are the root). */
  readonly base: string;
  /**
   * The sensor ids it can produce, as an MQTT-style filter over ids ("+" one level, "#" any
   * rest): what check-config compares to refuse two sources whose ids could overlap.
   */
  readonly idSpace: string;
  /** Field paths left out unless the config sets its own `exclude`. */
  readonly exclude: readonly string[];
  /** Where the firmware puts the message time, unless the config sets `timeFields`. */
  readonly timeFields: readonly string[];
  /**
   * The firmware stamps a message when it sends it (it never sends old readings): a time more
   * than limits.maxFutureSkew from the receive time is a wrong clock or timezone, and the
   * receive time stamps instead (counted as untimed).
   */
  readonly liveTime: boolean;
  decoder(base: string, settings: DecodeSettings): TopicDecoder;
}
