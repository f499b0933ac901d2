// Topic filters on the hot path: compiled once, each distinct topic's answer cached (bounded).
// Routing a message whose topic was seen before parses nothing; the answers are those of the
// plain matcher for any filter and topic.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileTopicFilters, sensorIdFromTopic, sensorIdsFor, TOPIC_CACHE_SIZE, topicMatches } from '../../src/stream/topic-filter.js';

describe('compiled topic filters', () => {
  it('route a repeated topic without parsing it again (the compiled form and its cache are used)', () => {
    const route = compileTopicFilters(['sensors/#', 'zigbee2mqtt/+', 'tasmota/tele/+/SENSOR']);
    const topics = ['sensors/greenhouse/t1', 'zigbee2mqtt/kitchen', 'tasmota/tele/pow1/SENSOR', 'other/x'];
    for (let i = 0; i < 10_000; i++) route(topics[i % topics.length]!);
    expect(route.parsed).toBe(topics.length);
    expect(topics.map((t) => route(t))).toEqual([true, true, true, false]);
  });

  it('answer as the plain matcher does, for any filters and topics, past the cache bound too', () => {
    const level = fc.constantFrom('a', 'b', 'sensors', '+', '#', '');
    const filter = fc.array(level, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('/')).filter((f) => !/#./.test(f));
    const topic = fc.array(fc.constantFrom('a', 'b', 'sensors', 'x', ''), { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'));
    fc.assert(
      fc.property(fc.array(filter, { minLength: 1, maxLength: 4 }), fc.array(topic, { minLength: 1, maxLength: 50 }), (filters, ts) => {
        const route = compileTopicFilters(filters);
        for (const t of [...ts, ...ts]) expect(route(t)).toBe(filters.some((f) => topicMatches(f, t)));
      }),
    );
    const route = compileTopicFilters(['s/+']);
    for (let i = 0; i < TOPIC_CACHE_SIZE + 10; i++) expect(route(`s/${i}`)).toBe(true);
    expect(route('s/1/2')).toBe(false);
  });

  it('sensor ids from topics with the prefix computed once', () => {
    const id = sensorIdsFor('sensors/#');
    expect(id('sensors/greenhouse/t1')).toBe('greenhouse/t1');
    expect(sensorIdFromTopic('+/x', 'a/x')).toBe('a/x');
  });
});
