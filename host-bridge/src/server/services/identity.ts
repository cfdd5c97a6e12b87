/** Identity service: who the host is, and signatures bound to the calling plugin. */
import * as openpgp from 'openpgp';
import { HOST_CONTRACT_VERSION, SIGN_MAX_PAYLOAD_BYTES, pluginSignedMessage } from '../../../../proto';
import type { IdentityHandlers } from '../../../../proto/generated/kinfolder/host/v1/Identity';
import { type ServiceContext, unary } from '../context';
import { maxBytes } from '../validate';

export function identityHandlers(ctx: ServiceContext): IdentityHandlers {
  return {
    GetSelf: unary(ctx, 'Identity.GetSelf', undefined, (_req, plugin) => {
      const self = ctx.adapter.self();
      return {
        fingerprint: self.fingerprint,
        locationId: self.locationId,
        displayName: self.displayName,
        publicKeyArmored: self.publicKeyArmored,
        keyAlgorithm: self.keyAlgorithm,
        pluginId: plugin.id,
        contractVersion: HOST_CONTRACT_VERSION,
        hostSoftware: self.hostSoftware,
      };
    }),
    Sign: unary(ctx, 'Identity.Sign', 'identity.sign', async (req, plugin) => {
      maxBytes(req.payload.length, SIGN_MAX_PAYLOAD_BYTES, 'payload', 'INVALID_ARGUMENT');
      const signature = await ctx.adapter.sign(pluginSignedMessage(plugin.id, req.payload));
      // A Buffer from the adapter is fine on the wire but openpgp wants a plain Uint8Array.
      const armored = (await openpgp.readSignature({ binarySignature: new Uint8Array(signature) })).armor();
      return { signature: Buffer.from(signature), signatureArmored: armored };
    }),
  };
}
