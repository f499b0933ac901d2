import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/stream/glob.js';
import { topicMatches, sensorIdFromTopic } from '../../src/stream/topic-filter.js';

describe('sensor globs', () => {
  it('* stays within a level, ** crosses levels', () => {
    expect(compileGlob('greenhouse/*')('greenhouse/temp1')).toBe(true);
    expect(compileGlob('greenhouse/*')('greenhouse/a/temp1')).toBe(false);
    expect(compileGlob('greenhouse/**')('greenhouse/a/temp1')).toBe(true);
    expect(compileGlob('greenhouse/temp?')('greenhouse/temp1')).toBe(true);
    expect(compileGlob('a.b')('axb')).toBe(false);
  });
});

describe('MQTT topic filters', () => {
  it('matches + and #', () => {
    expect(topicMatches('sensors/#', 'sensors/a/b')).toBe(true);
    expect(topicMatches('sensors/#', 'sensors')).toBe(true);
    expect(topicMatches('sensors/+/t', 'sensors/a/t')).toBe(true);
    expect(topicMatches('sensors/+/t', 'sensors/a/b/t')).toBe(false);
    expect(topicMatches('sensors/a', 'sensors/a/b')).toBe(false);
  });
  it('derives the sensor id by stripping the literal prefix', () => {
    expect(sensorIdFromTopic('sensors/#', 'sensors/greenhouse/temp1')).toBe('greenhouse/temp1');
    expect(sensorIdFromTopic('site/+/temp', 'site/a/temp')).toBe('a/temp');
    expect(sensorIdFromTopic('plain/topic', 'plain/topic')).toBe('plain/topic');
  });
});
