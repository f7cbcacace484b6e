/**
 * Measures the rate one probe cluster got through (libwebrtc's ProbeBitrateEstimator, simplified):
 * send rate over the send interval (without the last packet), receive rate over the arrival interval
 * (without the first), result = the smaller; when the receive rate is clearly below the send rate the
 * path was saturated and 95 % of the receive rate is the capacity estimate.
 */
export class ProbeCluster {
  id = -1;
  targetBps = 0;
  startUs = 0;
  sent = 0;
  received = 0;
  private firstSend = 0;
  private lastSend = 0;
  private lastSendSize = 0;
  private firstArr = 0;
  private firstArrSize = 0;
  private lastArr = 0;
  private bytes = 0;

  start(id: number, targetBps: number, nowUs: number): void {
    this.id = id;
    this.targetBps = targetBps;
    this.startUs = nowUs;
    this.sent = 0;
    this.received = 0;
    this.bytes = 0;
  }

  get active(): boolean {
    return this.id >= 0;
  }

  addReceived(send: number, arrival: number, size: number): void {
    if (this.received === 0) {
      this.firstSend = send;
      this.lastSend = send;
      this.lastSendSize = size;
      this.firstArr = arrival;
      this.firstArrSize = size;
      this.lastArr = arrival;
    } else {
      if (send < this.firstSend) this.firstSend = send;
      if (send >= this.lastSend) {
        this.lastSend = send;
        this.lastSendSize = size;
      }
      if (arrival < this.firstArr) {
        this.firstArr = arrival;
        this.firstArrSize = size;
      }
      if (arrival > this.lastArr) this.lastArr = arrival;
    }
    this.received++;
    this.bytes += size;
  }

  /**
   * Ends the cluster; the measured rate (bps) or -1 when the measurement is not usable: too few packets
   * arrived, or under 80 % of those sent (a lossy probe says the path is full, not how fast it is).
   */
  finish(minPackets: number): number {
    this.id = -1;
    if (this.received < minPackets || this.received < 0.8 * this.sent) return -1;
    const sendInterval = this.lastSend - this.firstSend;
    const recvInterval = this.lastArr - this.firstArr;
    if (sendInterval <= 0 || recvInterval <= 0 || sendInterval > 1e6 || recvInterval > 1e6) return -1;
    const sendRate = ((this.bytes - this.lastSendSize) * 8e6) / sendInterval;
    const recvRate = ((this.bytes - this.firstArrSize) * 8e6) / recvInterval;
    if (recvRate < 0.9 * sendRate) return 0.95 * recvRate;
    return sendRate < recvRate ? sendRate : recvRate;
  }
}
