// Preallocated output buffers reused in turn: dgram sends asynchronously, so a buffer is written again only
// after the ring wrapped around (COUNT sends later). One block of memory, no allocation per packet.

export class BufferRing {
  private readonly buffers: Buffer[];
  private index = 0;

  constructor(count: number, size: number) {
    const memory = Buffer.alloc(count * size);
    this.buffers = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) this.buffers[i] = memory.subarray(i * size, (i + 1) * size);
  }

  next(): Buffer {
    const b = this.buffers[this.index];
    this.index = this.index + 1 === this.buffers.length ? 0 : this.index + 1;
    return b;
  }
}
