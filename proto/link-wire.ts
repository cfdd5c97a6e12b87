/**
 * The Links stream's messages with their payload not copied by the protobuf encoder. Payloads
 * carry every block of every transfer, and each gRPC send copied them twice (protobufjs into
 * its message buffer, then grpc-js behind its 5-byte header): a payload allocated with room in
 * front of it (`withLinkHeadroom`) gets the message's fields written into that room instead,
 * and the encoded message is a view ending with the payload. grpc-js still makes its one copy.
 *
 * The room is used once: a payload serialized a second time (or one made without room) is
 * encoded the ordinary way, so nothing encoded earlier is overwritten.
 */

/** Bytes kept in front of a payload: a LinkEvent's or LinkSend's fields before it, with a peer id and a service name of usual length. */
export const LINK_HEADROOM = 160;

/** Payloads whose LINK_HEADROOM bytes in front are ours to write into, until the first serialize takes them. */
const roomy = new WeakSet<Uint8Array>();

/** A buffer of `size` bytes with LINK_HEADROOM free bytes in front of it (not zeroed). */
export function withLinkHeadroom(size: number): Buffer {
  const whole = Buffer.allocUnsafe(LINK_HEADROOM + size);
  const out = whole.subarray(LINK_HEADROOM);
  roomy.add(out);
  return out;
}

/** Marks `payload` as having LINK_HEADROOM free bytes in front of it within its ArrayBuffer. */
export function markLinkHeadroom(payload: Uint8Array): void {
  if (payload.byteOffset >= LINK_HEADROOM) roomy.add(payload);
}

const varintBytes = (n: number): number => {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
};

function putVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** A field of a message in front of the payload: a varint, or length-delimited UTF-8 text. */
type Field = { readonly tag: number; readonly varint: number } | { readonly tag: number; readonly text: string };

const fieldBytes = (f: Field): number =>
  'varint' in f ? (f.varint === 0 ? 0 : 1 + varintBytes(f.varint)) : f.text.length === 0 ? 0 : 1 + varintBytes(Buffer.byteLength(f.text)) + Buffer.byteLength(f.text);

function putField(buf: Buffer, at: number, f: Field): number {
  // proto3: a field at its default value is left out, as protobufjs does.
  if ('varint' in f) return f.varint === 0 ? at : putVarint(buf, putVarint(buf, at, f.tag), f.varint);
  if (f.text.length === 0) return at;
  const len = Buffer.byteLength(f.text);
  at = putVarint(buf, putVarint(buf, at, f.tag), len);
  return at + buf.write(f.text, at, 'utf8');
}

/**
 * `fields` then the payload as field `payloadField` (bytes), wrapped in `outer` (a field of
 * message type holding all of it) when given, written into the payload's room; undefined when
 * the payload has none or the fields do not fit.
 */
function inPlace(fields: readonly Field[], payloadField: number, payload: Uint8Array, outer?: number): Buffer | undefined {
  if (!roomy.has(payload) || payload.length === 0) return undefined;
  let inner = 0;
  for (const f of fields) {
    // Negative numbers take ten bytes in protobuf's varint: left to the ordinary encoder.
    if ('varint' in f && !(Number.isSafeInteger(f.varint) && f.varint >= 0)) return undefined;
    inner += fieldBytes(f);
  }
  const payloadTag = (payloadField << 3) | 2;
  inner += varintBytes(payloadTag) + varintBytes(payload.length) + payload.length;
  const outerTag = outer === undefined ? 0 : (outer << 3) | 2;
  const total = outer === undefined ? inner : varintBytes(outerTag) + varintBytes(inner) + inner;
  const head = total - payload.length;
  if (head > payload.byteOffset || head > LINK_HEADROOM) return undefined;
  roomy.delete(payload);
  const buf = Buffer.from(payload.buffer, payload.byteOffset - head, total);
  let at = 0;
  if (outer !== undefined) at = putVarint(buf, putVarint(buf, at, outerTag), inner);
  for (const f of fields) at = putField(buf, at, f);
  at = putVarint(buf, putVarint(buf, at, payloadTag), payload.length);
  if (at !== head) throw new Error(`link wire: wrote ${at} header bytes, expected ${head}`);
  return buf;
}

/** The plugin's LinkSend { id = 1, peer = 2, service = 3, payload = 4 }, in place; undefined: encode it the ordinary way. */
export function linkSendInPlace(m: { id?: number | string | null; peer?: string | null; service?: string | null; payload?: Uint8Array | null }): Buffer | undefined {
  if (!(m.payload instanceof Uint8Array) || typeof m.id !== 'number') return undefined;
  return inPlace(
    [
      { tag: (1 << 3) | 0, varint: m.id },
      { tag: (2 << 3) | 2, text: m.peer ?? '' },
      { tag: (3 << 3) | 2, text: m.service ?? '' },
    ],
    4,
    m.payload,
  );
}

/** The host's LinkEvent { delivery = 2: LinkDelivery { peer = 1, service = 2, payload = 3 } }, in place; undefined: encode it the ordinary way. */
export function linkDeliveryInPlace(m: { delivery?: { peer?: string | null; service?: string | null; payload?: Uint8Array | null } | null; ready?: unknown; error?: unknown }): Buffer | undefined {
  const d = m.delivery;
  if (d == null || m.ready != null || m.error != null || !(d.payload instanceof Uint8Array)) return undefined;
  return inPlace(
    [
      { tag: (1 << 3) | 2, text: d.peer ?? '' },
      { tag: (2 << 3) | 2, text: d.service ?? '' },
    ],
    3,
    d.payload,
    2,
  );
}
