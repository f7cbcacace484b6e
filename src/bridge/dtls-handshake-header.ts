// The header of a DTLS handshake message (RFC 6347 4.2.2) in a plaintext record: msg_type, length,
// message_seq, fragment_offset, fragment_length, the 12 bytes after the 13-byte record header. One reader for
// the ClientHello fragments (dtls.ts) and the client's later flight (dtls-flight-gate.ts). It reads, nothing
// more: the caller has checked that the record is a handshake record and holds the 12 bytes.

/** The record header's length (content type, version, epoch, sequence number, length). */
export const RECORD_HEADER_LENGTH = 13;
/** The handshake header's length. */
export const HANDSHAKE_HEADER_LENGTH = 12;

export interface HandshakeHeader {
  msgType: number;
  /** The whole message's length (all its fragments). */
  messageLength: number;
  seq: number;
  /** Where this fragment starts in the message, and how long it is. */
  fragmentOffset: number;
  fragmentLength: number;
}

/** The handshake header of the record at `off` (`buf` holds at least off + 25 bytes). */
export function readHandshakeHeader(buf: Buffer, off: number): HandshakeHeader {
  const h = off + RECORD_HEADER_LENGTH;
  return {
    msgType: buf[h]!,
    messageLength: buf.readUIntBE(h + 1, 3),
    seq: buf.readUInt16BE(h + 4),
    fragmentOffset: buf.readUIntBE(h + 6, 3),
    fragmentLength: buf.readUIntBE(h + 9, 3),
  };
}
