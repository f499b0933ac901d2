// The presets by the name the config gives them. Explicit: adding one is a line here.
import type { Preset } from './preset.js';
import { zigbee2mqtt } from './zigbee2mqtt.js';
import { tasmota } from './tasmota.js';
import { esphome } from './esphome.js';
import { shellyGen2 } from './shelly-gen2.js';
import { homeassistant } from './homeassistant.js';

export const PRESETS = { zigbee2mqtt, tasmota, esphome, 'shelly-gen2': shellyGen2, homeassistant } as const satisfies Record<string, Preset>;
export type PresetName = keyof typeof PRESETS;
