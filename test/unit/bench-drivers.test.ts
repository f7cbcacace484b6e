// The benchmark's drivers: how synthetic participants are spread over driver processes (plan.ts's
// spreadOverDrivers), when a step counts as driver-limited (bench/driver-limits.ts), the send schedule's own
// account of falling behind (send-schedule.ts, with a publisher slower than its frame rate) and the receive
// side's (socket-drops.ts, with a real socket that is not read in time).
import { test } from 'node:test';
import dgram from 'node:dgram';
import assert from 'node:assert/strict';
import { spreadOverDrivers } from '../../src/loadtest/plan.ts';
import { driverLimit, DRIVER_CPU_LIMIT } from '../../bench/driver-limits.ts';
import { SendSchedule, LATE_MS, type ScheduledPublisher } from '../../src/loadtest/send-schedule.ts';
import { udpSocketDrops } from '../../src/loadtest/socket-drops.ts';

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

test('driverLimit: packets dropped at a driver\'s receiver sockets make the step driver-limited', () => {
  assert.equal(driverLimit([{ cpu: 0.2, skips: 0, late: 0, frames: 100, socketDrops: 0 }]), null);
  assert.equal(driverLimit([{ cpu: 0.2, skips: 0, late: 0, frames: 100, socketDrops: 12 }]), "driver: its receivers' sockets dropped 12 packets");
});

test('udpSocketDrops: reads the drops column of the sockets on the given ports', () => {
  const table = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  123: 0100007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1111 2 0000000000000000 5',
    '  124: 0100007F:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1112 2 0000000000000000 7',
    '  125: 00000000:2710 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1113 2 0000000000000000 100',
  ].join('\n');
  assert.equal(udpSocketDrops(new Set([0x9c40, 0x9c41]), table), 12);
  assert.equal(udpSocketDrops(new Set([1]), table), 0);
  assert.equal(udpSocketDrops(new Set([0x9c40]), null), null);
});

test('udpSocketDrops: a real socket that does not read in time shows its drops', { skip: process.platform !== 'linux' }, async () => {
  const rx = dgram.createSocket('udp4');
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  rx.setRecvBufferSize(4096); // the kernel's minimum: a few datagrams
  const port = rx.address().port;
  const before = udpSocketDrops(new Set([port]))!;
  const payload = Buffer.alloc(1000);
  // loopback delivers during send: this loop fills the buffer before the event loop can read any
  for (let i = 0; i < 200; i++) tx.send(payload, port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  const after = udpSocketDrops(new Set([port]))!;
  tx.close();
  rx.close();
  assert.ok(after > before, `drops ${before} → ${after}`);
});
