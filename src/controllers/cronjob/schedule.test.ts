import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Schedule, formatInZone } from './schedule.js';
import { jobNameFor, scheduleTimes } from './cronjob-controller.js';

const next = (spec: string, from: string, tz?: string) => Schedule.parse(spec, tz).next(new Date(from))?.toISOString();

test('five-field schedules in UTC', () => {
  assert.equal(next('* * * * *', '2024-01-01T00:00:00Z'), '2024-01-01T00:01:00.000Z');
  assert.equal(next('* * * * *', '2024-01-01T00:00:30Z'), '2024-01-01T00:01:00.000Z');
  assert.equal(next('*/15 * * * *', '2024-01-01T00:16:00Z'), '2024-01-01T00:30:00.000Z');
  assert.equal(next('5,10-12 3 * * *', '2024-01-01T03:11:00Z'), '2024-01-01T03:12:00.000Z');
  assert.equal(next('5,10-12 3 * * *', '2024-01-01T03:12:00Z'), '2024-01-02T03:05:00.000Z');
  assert.equal(next('30 9 * * MON-FRI', '2024-01-05T10:00:00Z'), '2024-01-08T09:30:00.000Z'); // Fri → Mon
  assert.equal(next('0 0 1 JAN *', '2024-06-01T00:00:00Z'), '2025-01-01T00:00:00.000Z');
  assert.equal(next('0 0 29 2 *', '2024-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(next('0 12 * * 7', '2024-01-01T00:00:00Z'), '2024-01-07T12:00:00.000Z'); // 7 = Sunday
  assert.equal(next('10/20 * * * *', '2024-01-01T00:31:00Z'), '2024-01-01T00:50:00.000Z');
  // Both day fields restricted: either matches (the 13th, or a Friday).
  assert.equal(next('0 0 13 * 5', '2024-01-01T00:00:00Z'), '2024-01-05T00:00:00.000Z');
  // Day-of-week is *: only the 13th.
  assert.equal(next('0 0 13 * *', '2024-01-01T00:00:00Z'), '2024-01-13T00:00:00.000Z');
  assert.equal(next('0 0 30 2 *', '2024-01-01T00:00:00Z'), undefined);
});

test('descriptors', () => {
  assert.equal(next('@hourly', '2024-01-01T00:00:00Z'), '2024-01-01T01:00:00.000Z');
  assert.equal(next('@daily', '2024-01-01T00:00:00Z'), '2024-01-02T00:00:00.000Z');
  assert.equal(next('@weekly', '2024-01-01T00:00:00Z'), '2024-01-07T00:00:00.000Z');
  assert.equal(next('@monthly', '2024-01-15T00:00:00Z'), '2024-02-01T00:00:00.000Z');
  assert.equal(next('@yearly', '2024-01-15T00:00:00Z'), '2025-01-01T00:00:00.000Z');
});

test('time zones: spec.timeZone, CRON_TZ= and TZ=, including DST', () => {
  // 09:00 in New York is 14:00 UTC in winter, 13:00 UTC in summer.
  assert.equal(next('0 9 * * *', '2024-01-10T00:00:00Z', 'America/New_York'), '2024-01-10T14:00:00.000Z');
  assert.equal(next('0 9 * * *', '2024-07-10T00:00:00Z', 'America/New_York'), '2024-07-10T13:00:00.000Z');
  assert.equal(next('CRON_TZ=Asia/Tokyo 0 9 * * *', '2024-01-10T00:00:00Z'), '2024-01-11T00:00:00.000Z');
  assert.equal(next('TZ=Europe/Berlin 30 1 * * *', '2024-01-10T00:00:00Z'), '2024-01-10T00:30:00.000Z'); // 01:00 Berlin → 01:30 Berlin
  // Spring forward (2024-03-10): 02:30 does not exist in New York that day and is skipped.
  assert.equal(next('30 2 * * *', '2024-03-10T00:00:00Z', 'America/New_York'), '2024-03-11T06:30:00.000Z');
  // Fall back (2024-11-03): 01:30 happens twice; the first (EDT, 05:30Z) then, after it, the second (EST).
  assert.equal(next('30 1 * * *', '2024-11-03T04:00:00Z', 'America/New_York'), '2024-11-03T05:30:00.000Z');
  assert.equal(next('30 1 * * *', '2024-11-03T05:30:00Z', 'America/New_York'), '2024-11-03T06:30:00.000Z');
  assert.equal(formatInZone(new Date('2024-01-10T14:00:00Z'), 'America/New_York'), '2024-01-10T09:00:00-05:00');
  assert.equal(formatInZone(new Date('2024-01-10T14:00:00Z'), 'UTC'), '2024-01-10T14:00:00Z');
});

test('invalid schedules are refused', () => {
  for (const bad of ['* * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '5-1 * * * *', '*/0 * * * *', '@every 5m', 'a * * * *']) {
    assert.throws(() => Schedule.parse(bad), Error, bad);
  }
  assert.throws(() => Schedule.parse('* * * * *', 'Mars/Olympus'));
});

test('scheduleTimes: most recent missed time, count and next, with an injected clock', () => {
  const s = Schedule.parse('*/10 * * * *');
  const r = scheduleTimes(s, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:35:00Z'));
  assert.equal(r.mostRecent?.toISOString(), '2024-01-01T00:30:00.000Z');
  assert.equal(r.missed, 3);
  assert.equal(r.next?.toISOString(), '2024-01-01T00:40:00.000Z');
  const none = scheduleTimes(s, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:05:00Z'));
  assert.equal(none.mostRecent, undefined);
  // Far behind: still the latest time, without walking every minute.
  const far = scheduleTimes(Schedule.parse('* * * * *'), new Date('2023-01-01T00:00:00Z'), new Date('2024-01-01T00:00:30Z'));
  assert.equal(far.mostRecent?.toISOString(), '2024-01-01T00:00:00.000Z');
  assert.ok(far.missed > 100);
  assert.equal(jobNameFor('hello', new Date('2024-01-01T00:30:00Z')), `hello-${Date.UTC(2024, 0, 1, 0, 30) / 60000}`);
});
