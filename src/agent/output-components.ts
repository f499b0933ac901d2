// The outputs as components: the uplink (the forwarder draining the outbox upstream) and the GPIO
// alarm pins. Started before the stream and the sources, stopped after them, so what got in can
// still get out.
import { createForwarder } from '../outputs/uplink/forwarder.js';
import { uplinkOutput } from '../outputs/uplink/uplink-output.js';
import { gpioAlarmOutput } from '../outputs/gpio-alarms/gpio-alarm-output.js';
import { homeAssistantOutput } from '../outputs/home-assistant/home-assistant-output.js';
import { BUILD_VERSION } from '../ops/build-info.js';
import type { Output } from '../outputs/output.js';
import { createSimulatedGpioDriver } from '../gpio/simulated-driver.js';
import { createOnoffDriver } from '../gpio/onoff-driver.js';
import { bump } from '../ops/stats.js';
import { rowTopic } from '../store/outbox.js';
import { createCommandInbox } from './commands/command-inbox.js';
import type { Component } from './lifecycle.js';
import type { AgentContext, AgentParts } from './agent-parts.js';

/** How long a stop waits for in-flight PUBACKs unless the agent's options say (ms). */
const STOP_TIMEOUT_MS = 3000;

function asComponent(output: () => Output, parts: AgentParts, timeoutMs: number): Component {
  let o: Output | undefined;
  return {
    get name() {
      return o?.name ?? 'output';
    },
    async start() {
      o = output();
      parts.outputs.push(o);
      await o.start();
    },
    stop: async () => o?.stop(timeoutMs),
  };
}

export function uplinkComponent({ config, log, clock, stats, opts }: AgentContext, parts: AgentParts): Component {
  const { uplink } = config;
  return asComponent(
    () => {
      const w = parts.writer!;
      const f = createForwarder({
        uplink,
        outbox: parts.outbox!,
        memory: w,
        log,
        clock,
        onRefused: (row, why) => {
          bump(stats.deadLettersByReason, 'upstream-refused');
          w.reject({ reason: 'upstream-refused', detail: why, source: 'uplink', topic: rowTopic(uplink.topicPrefix, row), receivedAt: clock(), payload: row.payload });
          return w.durable(); // the row leaves the outbox only once its dead letter is committed
        },
      });
      parts.forwarder = f;
      if (config.commands.enabled) {
        // Before the first connect: commands the session kept arrive right after it.
        const inbox = createCommandInbox();
        parts.commandInbox = inbox;
        f.live.watch(`${uplink.topicPrefix}/cmd/+`, (topic, payload, props) => inbox.deliver(topic, payload, props), 1);
      }
      return uplinkOutput(f);
    },
    parts,
    opts.stopTimeoutMs ?? STOP_TIMEOUT_MS,
  );
}

export function gpioAlarmsComponent({ config, log, opts }: AgentContext, parts: AgentParts): Component {
  const { gpio } = config;
  return asComponent(
    () => {
      const driver = gpio.simulate ? createSimulatedGpioDriver() : (opts.gpioDriver ?? createOnoffDriver(gpio.sysfs));
      parts.alarms = gpioAlarmOutput(gpio.alarms, driver, log);
      return parts.alarms;
    },
    parts,
    0, // pins go off at once
  );
}

/** Home Assistant discovery on the fleet broker, through the uplink's connection. */
export function homeAssistantComponent({ config }: AgentContext, parts: AgentParts): Component {
  const { uplink, device } = config;
  return asComponent(
    () =>
      homeAssistantOutput({
        device: device.id,
        topicPrefix: uplink.topicPrefix,
        prefix: uplink.homeAssistant.prefix,
        maxSensors: uplink.homeAssistant.maxSensors,
        version: BUILD_VERSION,
        live: parts.forwarder!.live,
        // The sensors the stream knows (restored from its checkpoint): a restart announces them all.
        known: () => parts.stream?.sensorIds(uplink.homeAssistant.maxSensors) ?? [],
      }),
    parts,
    0,
  );
}
