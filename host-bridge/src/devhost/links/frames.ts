/**
 * Frame codec of the secure link (pure). On the wire, after TLS:
 *   u32 BE length (of type byte + body) | u8 type | body
 * Bodies: `link` is binary (u16 BE service length | service UTF-8 | payload); the control
 * frames carry small JSON objects; `accept`, `ping` and `pong` carry nothing.
 * A frame longer than MAX_FRAME_BYTES or one that does not parse is a protocol error.
 */
import { LINK_HEADROOM, LINK_MAX_PAYLOAD_BYTES, markLinkHeadroom } from '../../../../proto';
import type { LinkNotice } from '../../adapter';

export const MAX_FRAME_BYTES = LINK_MAX_PAYLOAD_BYTES + 64 * 1024;

export const FRAME_TYPE = { hello: 1, accept: 2, link: 3, linkNotice: 4, chat: 5, ping: 6, pong: 7 } as const;

export interface HelloFrame {
  kind: 'hello';
  fingerprint: string;
  locationId: string;
  /** Random per process start: tells a restarted peer from a duplicate connection. */
  instance: string;
  /** Where the sender listens now, so friends can follow a port change. */
  address: string;
  /** PGP detached signature over the TLS binding message. */
  binding: Buffer;
}
export interface ChatRoomRef {
  id: string;
  title: string;
  members: string[];
}
export interface ChatFrame {
  kind: 'chat';
  id: string;
  text: string;
  sentAtMs: number;
  room?: ChatRoomRef;
}
export type Frame =
  | HelloFrame
  | { kind: 'accept' }
  | { kind: 'link'; service: string; payload: Buffer }
  | { kind: 'linkNotice'; service: string; code: LinkNotice['code']; message: string }
  | ChatFrame
  | { kind: 'ping' }
  | { kind: 'pong' };

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(readonly reason: 'oversized' | 'malformed' | 'unknown-type', message: string) {
    super(message);
  }
}

function header(type: number, bodyLength: number): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(bodyLength + 1, 0);
  h.writeUInt8(type, 4);
  return h;
}

function jsonFrame(type: number, obj: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(obj), 'utf8');
  return Buffer.concat([header(type, body.length), body]);
}

/** One buffer per frame, ready for socket.write. */
export function encodeFrame(frame: Frame): Buffer {
  const parts = encodeFrameParts(frame);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * The frame as buffers to write one after another: a link frame's payload is not copied
 * behind its header (payloads carry every block of every transfer).
 */
export function encodeFrameParts(frame: Frame): Buffer[] {
  if (frame.kind === 'link') {
    const service = Buffer.from(frame.service, 'utf8');
    if (service.length > 0xffff) throw new FrameError('malformed', 'service name too long');
    const head = Buffer.allocUnsafe(5 + 2 + service.length);
    head.writeUInt32BE(1 + 2 + service.length + frame.payload.length, 0);
    head.writeUInt8(FRAME_TYPE.link, 4);
    head.writeUInt16BE(service.length, 5);
    service.copy(head, 7);
    return frame.payload.length > 0 ? [head, frame.payload] : [head];
  }
  return [encodeControlFrame(frame)];
}

function encodeControlFrame(frame: Exclude<Frame, { kind: 'link' }>): Buffer {
  switch (frame.kind) {
    case 'hello':
      return jsonFrame(FRAME_TYPE.hello, {
        fingerprint: frame.fingerprint,
        locationId: frame.locationId,
        instance: frame.instance,
        address: frame.address,
        binding: frame.binding.toString('base64'),
      });
    case 'accept':
      return header(FRAME_TYPE.accept, 0);
    case 'ping':
      return header(FRAME_TYPE.ping, 0);
    case 'pong':
      return header(FRAME_TYPE.pong, 0);
    case 'linkNotice':
      return jsonFrame(FRAME_TYPE.linkNotice, { service: frame.service, code: frame.code, message: frame.message });
    case 'chat':
      return jsonFrame(FRAME_TYPE.chat, { id: frame.id, text: frame.text, sentAtMs: frame.sentAtMs, room: frame.room });
  }
}

const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;

function parseJson(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new FrameError('malformed', 'body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FrameError('malformed', 'body is not an object');
  return v as Record<string, unknown>;
}

function bad(what: string): never {
  throw new FrameError('malformed', what);
}

export function decodeFrameBody(type: number, body: Buffer): Frame {
  switch (type) {
    case FRAME_TYPE.accept:
    case FRAME_TYPE.ping:
    case FRAME_TYPE.pong:
      if (body.length !== 0) bad('unexpected body');
      return { kind: type === FRAME_TYPE.accept ? 'accept' : type === FRAME_TYPE.ping ? 'ping' : 'pong' };
    case FRAME_TYPE.link: {
      if (body.length < 2) bad('link frame too short');
      const n = body.readUInt16BE(0);
      if (n === 0 || n > body.length - 2) bad('bad service length');
      // A view: the decoder gives every frame a buffer of its own, so a subscriber that keeps
      // the payload pins this frame and nothing else.
      return { kind: 'link', service: body.subarray(2, 2 + n).toString('utf8'), payload: body.subarray(2 + n) };
    }
    case FRAME_TYPE.hello: {
      const o = parseJson(body);
      if (!isStr(o.fingerprint, 64) || !isStr(o.locationId, 64) || !isStr(o.instance, 64) || !isStr(o.address, 300) || !isStr(o.binding, 8192)) {
        bad('hello fields');
      }
      return { kind: 'hello', fingerprint: o.fingerprint, locationId: o.locationId, instance: o.instance, address: o.address, binding: Buffer.from(o.binding, 'base64') };
    }
    case FRAME_TYPE.linkNotice: {
      const o = parseJson(body);
      if (!isStr(o.service, 0xffff) || !isStr(o.message) || !['UNAVAILABLE', 'NOT_FOUND', 'RESOURCE_EXHAUSTED'].includes(o.code as string)) bad('notice fields');
      return { kind: 'linkNotice', service: o.service, code: o.code as LinkNotice['code'], message: o.message };
    }
    case FRAME_TYPE.chat: {
      const o = parseJson(body);
      if (!isStr(o.id, 128) || !isStr(o.text, 64 * 1024) || typeof o.sentAtMs !== 'number' || !Number.isFinite(o.sentAtMs)) bad('chat fields');
      let room: ChatRoomRef | undefined;
      if (o.room !== undefined) {
        const r = o.room as Record<string, unknown>;
        if (typeof r !== 'object' || r === null || !isStr(r.id, 128) || !isStr(r.title, 1024) || !Array.isArray(r.members) || r.members.length > 1024 || !r.members.every((m) => isStr(m, 64))) {
          bad('chat room fields');
        }
        room = { id: r.id, title: r.title, members: r.members as string[] };
      }
      return { kind: 'chat', id: o.id, text: o.text, sentAtMs: o.sentAtMs, room };
    }
    default:
      throw new FrameError('unknown-type', `unknown frame type ${type}`);
  }
}

/**
 * Turns a byte stream into frames; throws FrameError on the first bad frame. Each frame's bytes
 * are copied once, as they arrive, into a buffer of exactly its length (no concatenation of
 * the TLS reads, no second copy of a payload).
 */
export class FrameDecoder {
  private readonly head = Buffer.alloc(4);
  private headFilled = 0;
  /** The frame being filled (type byte + body), once its length is known. */
  private cur: Buffer | undefined;
  private filled = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.cur === undefined) {
        const take = Math.min(4 - this.headFilled, chunk.length - at);
        chunk.copy(this.head, this.headFilled, at, at + take);
        this.headFilled += take;
        at += take;
        if (this.headFilled < 4) break;
        const len = this.head.readUInt32BE(0);
        if (len === 0) throw new FrameError('malformed', 'empty frame');
        if (len > this.maxFrameBytes) throw new FrameError('oversized', `frame of ${len} bytes exceeds ${this.maxFrameBytes}`);
        // Room in front: the Links delivery to the plugin is encoded around the payload there (see LINK_HEADROOM).
        this.cur = Buffer.allocUnsafe(LINK_HEADROOM + len).subarray(LINK_HEADROOM);
        this.filled = 0;
      }
      const take = Math.min(this.cur.length - this.filled, chunk.length - at);
      chunk.copy(this.cur, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.cur.length) {
        const frame = this.cur;
        this.cur = undefined;
        this.headFilled = 0;
        const decoded = decodeFrameBody(frame[0], frame.subarray(1));
        // The frame's own head in front of the payload is decoded already: free to write over too.
        if (decoded.kind === 'link') markLinkHeadroom(decoded.payload);
        out.push(decoded);
      }
    }
    return out;
  }
}
