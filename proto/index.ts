/** The contracts: proto-loader options, the host contract's constants, and the plugin-bound signing message. */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as HostProtoGrpcType } from './generated/host';

export const HOST_CONTRACT_VERSION = 'kinfolder.host.v1';
export const HOST_PROTO_PATH = path.join(__dirname, 'host.proto');

export { PROTO_LOADER_OPTIONS, PROTO_GEN_FLAGS } from './loader-options';
export { LINK_HEADROOM, withLinkHeadroom, markLinkHeadroom } from './link-wire';
export { CONTRACT_WINDOW_BYTES, contractWindowBytes, socketBufferBytes } from './window';
import { linkDeliveryInPlace, linkSendInPlace } from './link-wire';
import { PROTO_LOADER_OPTIONS } from './loader-options';

/** Largest payload of one Links message, and the gRPC message limit around it. */
export const LINK_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
export const GRPC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
export const SIGN_MAX_PAYLOAD_BYTES = 1024 * 1024;
export const CHAT_MAX_TEXT_BYTES = 16 * 1024;

/** Metadata key and scheme of the plugin's token. */
export const AUTH_METADATA_KEY = 'authorization';
export const bearer = (token: string): string => `Bearer ${token}`;

/** Capability names a plugin manifest may declare. */
export const CAPABILITIES = ['identity.sign', 'peers.read', 'links', 'chat', 'ui.panel'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const SIGN_CONTEXT = Buffer.from('KINFOLDER-HOST-SIGN-V1\0', 'utf8');

/**
 * The exact bytes a host signs for `Identity.Sign`: a fixed context, the plugin id and
 * then the payload. Binding the plugin id keeps a plugin's signatures inside its domain.
 */
export function pluginSignedMessage(pluginId: string, payload: Uint8Array): Buffer {
  if (pluginId.length === 0 || pluginId.includes('\0')) throw new Error('plugin id must be non-empty and free of NUL');
  return Buffer.concat([SIGN_CONTEXT, Buffer.from(pluginId, 'utf8'), Buffer.from([0]), payload]);
}

let cached: HostProtoGrpcType | undefined;

/** Links.Open's messages encoded around their payload where it has room (see link-wire.ts), by both ends. */
function linksWithoutPayloadCopy(def: protoLoader.PackageDefinition): void {
  const open = (def['kinfolder.host.v1.Links'] as protoLoader.ServiceDefinition).Open;
  const { requestSerialize, responseSerialize } = open;
  open.requestSerialize = (m: Parameters<typeof linkSendInPlace>[0]) => linkSendInPlace(m) ?? requestSerialize(m);
  open.responseSerialize = (m: Parameters<typeof linkDeliveryInPlace>[0]) => linkDeliveryInPlace(m) ?? responseSerialize(m);
}

/** The loaded host contract (service constructors and definitions), typed from the proto. */
export function loadHostProto(): HostProtoGrpcType {
  if (!cached) {
    const def = protoLoader.loadSync(HOST_PROTO_PATH, PROTO_LOADER_OPTIONS);
    linksWithoutPayloadCopy(def);
    cached = grpc.loadPackageDefinition(def) as unknown as HostProtoGrpcType;
  }
  return cached;
}

