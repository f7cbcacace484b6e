// The client's later handshake records (flight 5: Certificate, ClientKeyExchange, CertificateVerify,
// ChangeCipherSpec, Finished), handed to werift in order, each message once. werift handles each record as it
// comes and computes the session's master secret when the ClientKeyExchange arrives, from every handshake message
// it holds then (the extended master secret's session hash): a Certificate lost on the way (a flight in several
// datagrams, one of them dropped) made it fail ("client certificate missing before certificate verify"), and the
// client's retransmission of the whole flight could not repair it (a second ClientKeyExchange was hashed with the
// CertificateVerify after it). So a message that arrives before the ones it follows waits for them, with the
// ChangeCipherSpec and the encrypted records after it, and a message werift already has is not handed again.
// Browsers send flight 5 in one datagram (a loss takes the whole flight, which comes again whole), so this matters
// to clients that spread it over several: one record a datagram (werift's own), or a large certificate's fragments.

import { HANDSHAKE_HEADER_LENGTH, readHandshakeHeader, RECORD_HEADER_LENGTH, type HandshakeHeader } from './dtls-handshake-header.ts';

/** Records one handshake may keep waiting for a gap to fill (a flight is 5-8 records); more are dropped. */
const MAX_WAITING = 16;

const CT_HANDSHAKE = 22;

/** A plaintext handshake record's handshake header (message_seq, fragment_offset, ...), or null for other records. */
function fragmentOf(record: Buffer): HandshakeHeader | null {
  if (record[0] !== CT_HANDSHAKE || record.readUInt16BE(3) !== 0 || record.length < RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH) return null;
  return readHandshakeHeader(record, 0);
}

export class FlightGate {
  /** The message_seq of the next handshake message werift needs. */
  private nextSeq: number;
  /** How much of that message werift has (its next fragment starts here). */
  private nextOffset = 0;
  /** Records that came before a message they follow, in arrival order. */
  private waiting: Buffer[] = [];

  /** `firstSeq`: the message_seq of the client's first message after its last ClientHello. */
  constructor(firstSeq: number) {
    this.nextSeq = firstSeq;
  }

  /**
   * One record from the client: handed to `deliver` now, with any that waited for it, or kept until the
   * records before it come. Returns how many records were dropped (a message werift has, or no room to wait).
   */
  offer(record: Buffer, deliver: (record: Buffer) => void): number {
    const f = fragmentOf(record);
    if (f !== null && (f.seq < this.nextSeq || (f.seq === this.nextSeq && f.fragmentOffset + f.fragmentLength <= this.nextOffset))) return 1;
    if (f !== null && f.seq === this.nextSeq && f.fragmentOffset <= this.nextOffset) {
      this.take(f, deliver, record);
      return this.release(deliver);
    }
    // a later message (a gap before it), or a record that follows the handshake messages while one is missing
    if (f !== null || this.waiting.length > 0) return this.wait(record);
    deliver(record);
    return 0;
  }

  private take(f: HandshakeHeader, deliver: (record: Buffer) => void, record: Buffer): void {
    deliver(record);
    this.nextOffset = Math.max(this.nextOffset, f.fragmentOffset + f.fragmentLength);
    if (this.nextOffset >= f.messageLength) {
      this.nextSeq = f.seq + 1;
      this.nextOffset = 0;
    }
  }

  private wait(record: Buffer): number {
    if (this.waiting.length >= MAX_WAITING) return 1;
    this.waiting.push(Buffer.from(record));
    return 0;
  }

  /** Hands over what waited and may go now; the rest keeps waiting. Returns the records dropped as duplicates. */
  private release(deliver: (record: Buffer) => void): number {
    let dropped = 0;
    for (let progress = true; progress; ) {
      progress = false;
      for (let i = 0; i < this.waiting.length; i++) {
        const f = fragmentOf(this.waiting[i]!);
        if (f === null) continue;
        if (f.seq < this.nextSeq || (f.seq === this.nextSeq && f.fragmentOffset + f.fragmentLength <= this.nextOffset)) {
          this.waiting.splice(i--, 1);
          dropped++;
        } else if (f.seq === this.nextSeq && f.fragmentOffset <= this.nextOffset) {
          const [record] = this.waiting.splice(i, 1);
          this.take(f, deliver, record!);
          progress = true;
          break;
        }
      }
    }
    // no handshake message waits for a gap any more: the records after them go, in the order they came
    if (this.waiting.every((r) => fragmentOf(r) === null)) {
      const rest = this.waiting;
      this.waiting = [];
      for (const r of rest) deliver(r);
    }
    return dropped;
  }
}
