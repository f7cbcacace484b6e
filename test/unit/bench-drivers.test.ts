// The benchmark's drivers: how synthetic participants are spread over driver processes (plan.ts's
// spreadOverDrivers), when a step counts as driver-limited (bench/driver-limits.ts), and the send schedule's
// own account of falling behind (send-schedule.ts), with a publisher that blocks the event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spreadOverDrivers } from '../../src/loadtest/plan.ts';
import { driverLimit, DRIVER_CPU_LIMIT } from '../../bench/driver-limits.ts';
import { SendSchedule, LATE_MS, type ScheduledPublisher } from '../../src/loadtest/send-schedule.ts';

const total = (costs: number[], group: number[]) => group.reduce((n, i) => n + costs[i]!, 0);

test('spreadOverDrivers: equal participants alternate, every one placed once', () => {
  const groups = spreadOverDrivers([1, 1, 1, 1, 1], 2);
  assert.deepEqual(groups, [[0, 2, 4], [1, 3]]);
});

test('spreadOverDrivers: a webinar (three costly publishers, many cheap receivers) ends up balanced', () => {
  const costs = [500, 500, 500, ...Array.from({ length: 47 }, () => 200)];
  const groups = spreadOverDrivers(costs, 2);
  assert.equal(groups.length, 2);
  assert.deepEqual(groups.flat().sort((a, b) => a - b), costs.map((_, i) => i));
  const [a, b] = groups.map((g) => total(costs, g));
  assert.ok(Math.abs(a! - b!) <= 500, `${a} against ${b}`);
});

test('spreadOverDrivers: never more drivers than participants, never an empty one, none for nobody', () => {
  assert.deepEqual(spreadOverDrivers([3, 1, 1], 8), [[0], [1], [2]]);
  // one huge participant does not leave a driver empty
  assert.deepEqual(spreadOverDrivers([1000, 1, 1, 1], 3), [[0], [1, 3], [2]]);
  assert.deepEqual(spreadOverDrivers([5, 5], 0), [[0, 1]]);
  assert.deepEqual(spreadOverDrivers([], 4), []);
});

test('driverLimit: drivers that kept up and stayed under the CPU limit measure the bridge', () => {
  assert.equal(driverLimit([{ cpu: 0.5, skips: 0, late: 0, frames: 1000 }, { cpu: DRIVER_CPU_LIMIT, skips: 0, late: 10, frames: 1000 }]), null);
  assert.equal(driverLimit([]), null);
});

test('driverLimit: skipped frames, late frames past 1% or a busy core make the step driver-limited, and say which driver', () => {
  assert.equal(driverLimit([{ cpu: 0.2, skips: 7, late: 0, frames: 100 }]), 'driver: skipped 7 frames');
  const late = driverLimit([{ cpu: 0.2, skips: 0, late: 0, frames: 100 }, { cpu: 0.2, skips: 0, late: 2, frames: 100 }]);
  assert.equal(late, `driver 2: 2.0% of frames sent over ${LATE_MS} ms late`);
  const both = driverLimit([{ cpu: 0.95, skips: 0, late: 0, frames: 100 }, { cpu: 0.3, skips: 3, late: 0, frames: 100 }]);
  assert.equal(both, 'driver 1: 95% of a core; driver 2: skipped 3 frames');
});

test('SendSchedule: a publisher slower than its frame rate falls behind: late frames first, then skipped ones', async () => {
  let video = 0;
  let audio = 0;
  const blocking: ScheduledPublisher = {
    publishesVideo: true,
    publishesAudio: true,
    sendVideoFrame() {
      video++;
      // every frame takes 40 ms of a 33 ms interval: the schedule drifts behind by 7 ms a frame
      const end = Date.now() + 40;
      while (Date.now() < end);
    },
    sendAudioFrame() {
      audio++;
    },
  };
  const s = new SendSchedule([blocking], [Buffer.alloc(10)]);
  s.start(1);
  await new Promise((r) => setTimeout(r, 1500));
  s.stop();
  assert.ok(video > 5 && audio > 0, `sent ${video} video and ${audio} audio frames`);
  assert.ok(s.late > 0, 'frames a whole interval behind are counted late');
  assert.ok(s.skips > 0, 'frames more than three behind are skipped');
  assert.equal(s.frames, video + audio);
});
