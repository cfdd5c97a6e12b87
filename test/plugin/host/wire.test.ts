import fc from 'fast-check';
import { wire } from '../../../plugin/src/host';
import type { ChatMessage, LinkError, Peer } from '../../../plugin/src/host';

const fpr = fc.stringMatching(/^[0-9A-F]{40}$/);
const bytes = fc.uint8Array({ maxLength: 64 });
const ms = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const peer: fc.Arbitrary<Peer> = fc.record({
  fingerprint: fpr,
  locationId: fc.string(),
  name: fc.string(),
  publicKeyArmored: fc.string(),
  online: fc.boolean(),
  lastSeenMs: ms,
});
const chatMessage: fc.Arbitrary<ChatMessage> = fc.record({
  id: fc.string(),
  from: fpr,
  fromName: fc.string(),
  peer: fc.string(),
  room: fc.string(),
  text: fc.string(),
  sentAtMs: ms,
  outgoing: fc.boolean(),
});
const linkError: fc.Arbitrary<LinkError> = fc.record({
  id: ms,
  code: fc.constantFrom('INVALID_ARGUMENT', 'NOT_FOUND', 'UNAVAILABLE', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'OK'),
  message: fc.string(),
  peer: fc.string(),
});

/** fromWire(toWire(x)) must give x back, field for field, bytes as plain Uint8Array. */
function roundTrips<D>(name: string, arb: fc.Arbitrary<D>, to: (d: D) => unknown, from: (w: never) => D): void {
  it(`${name}: fromWire(toWire(x)) = x`, () => {
    fc.assert(
      fc.property(arb, (d) => {
        expect(from(to(d) as never)).toEqual(d);
      }),
      { numRuns: 50 },
    );
  });
}

describe('wire', () => {
  roundTrips(
    'identity',
    fc.record({
      fingerprint: fpr,
      locationId: fc.string(),
      displayName: fc.string(),
      publicKeyArmored: fc.string(),
      keyAlgorithm: fc.constantFrom('ed25519', 'rsa3072'),
      pluginId: fc.string(),
      contractVersion: fc.constant('kinfolder.host.v1'),
      hostSoftware: fc.string(),
    }),
    wire.identityToWire,
    wire.identityFromWire,
  );
  roundTrips('signature', fc.record({ signature: bytes, armored: fc.string() }), wire.signatureToWire, wire.signatureFromWire);
  roundTrips('peer', peer, wire.peerToWire, wire.peerFromWire);
  roundTrips(
    'peer change',
    fc.oneof(
      fc.record({ kind: fc.constant('snapshot' as const), peers: fc.array(peer, { maxLength: 4 }) }),
      fc.record({ kind: fc.constant('added' as const), peer }),
      fc.record({ kind: fc.constant('changed' as const), peer }),
      fc.record({ kind: fc.constant('removed' as const), fingerprint: fpr }),
    ),
    wire.peerChangeToWire,
    wire.peerChangeFromWire,
  );
  roundTrips('chat message', chatMessage, wire.chatMessageToWire, wire.chatMessageFromWire);
  roundTrips('chat sent', fc.record({ message: chatMessage, deliveredTo: fc.array(fpr, { maxLength: 3 }) }), wire.chatSentToWire, wire.chatSentFromWire);
  roundTrips('chat room', fc.record({ id: fc.string(), title: fc.string(), members: fc.array(fpr, { maxLength: 3 }) }), wire.chatRoomToWire, wire.chatRoomFromWire);
  const panel = fc.record({ pluginId: fc.string(), id: fc.string(), title: fc.string(), icon: fc.string(), url: fc.webUrl() });
  roundTrips('panel', panel, wire.panelToWire, wire.panelFromWire);
  roundTrips('registered panel', fc.record({ panel, panelToken: fc.string() }), wire.registeredPanelToWire, wire.registeredPanelFromWire);
  roundTrips('link frame', fc.record({ id: ms, peer: fpr, service: fc.string(), payload: bytes }), wire.linkFrameToWire, wire.linkFrameFromWire);
  roundTrips('link message', fc.record({ peer: fpr, service: fc.string(), payload: bytes }), wire.linkMessageToWire, wire.linkMessageFromWire);
  roundTrips('link error', linkError, wire.linkErrorToWire, wire.linkErrorFromWire);
  roundTrips('link ready', fc.record({ maxPayloadBytes: fc.nat(), services: fc.array(fc.string(), { maxLength: 3 }) }), wire.linkReadyToWire, wire.linkReadyFromWire);

  it('keeps a delivery\'s payload as a view of the decoded message, not a copy (blocks are most of what arrives)', () => {
    const slab = Buffer.from('xxhelloxx');
    const view = slab.subarray(2, 7);
    const m = wire.linkMessageFromWire({ peer: 'p', service: 's', payload: view });
    expect(Buffer.from(m.payload).toString()).toBe('hello');
    expect(m.payload.buffer).toBe(slab.buffer);
    expect(m.payload.byteOffset).toBe(slab.byteOffset + 2);
    expect(Buffer.isBuffer(m.payload)).toBe(false);
  });

  it('hands a frame\'s Buffer payload to the encoder as the same object (its room in front is known by the object)', () => {
    const payload = Buffer.from('block bytes');
    expect(wire.linkFrameToWire({ id: 1, peer: 'p', service: 's', payload }).payload).toBe(payload);
    const plain = new Uint8Array(payload);
    expect(Buffer.from(wire.linkFrameToWire({ id: 1, peer: 'p', service: 's', payload: plain }).payload).equals(payload)).toBe(true);
  });

  it('maps a LinkError status number to its name and back', () => {
    expect(wire.linkErrorFromWire({ id: 7, code: 5, message: 'm', peer: 'p' })).toEqual({ id: 7, code: 'NOT_FOUND', message: 'm', peer: 'p' });
    expect(wire.linkErrorToWire({ id: 7, code: 'RESOURCE_EXHAUSTED', message: 'm', peer: 'p' }).code).toBe(8);
  });

  it('refuses a PeerEvent with no kind or a oneof without its field', () => {
    expect(() => wire.peerChangeFromWire({})).toThrow('unknown kind');
    expect(() => wire.peerChangeFromWire({ event: 'added', added: null })).toThrow('PeerEvent.added');
  });
});
