import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BlockReplies as _kinfolder_sync_v1_BlockReplies, BlockReplies__Output as _kinfolder_sync_v1_BlockReplies__Output } from './kinfolder/sync/v1/BlockReplies';
import type { BlockReply as _kinfolder_sync_v1_BlockReply, BlockReply__Output as _kinfolder_sync_v1_BlockReply__Output } from './kinfolder/sync/v1/BlockReply';
import type { BlockRequest as _kinfolder_sync_v1_BlockRequest, BlockRequest__Output as _kinfolder_sync_v1_BlockRequest__Output } from './kinfolder/sync/v1/BlockRequest';
import type { BlockRequests as _kinfolder_sync_v1_BlockRequests, BlockRequests__Output as _kinfolder_sync_v1_BlockRequests__Output } from './kinfolder/sync/v1/BlockRequests';
import type { CaughtUp as _kinfolder_sync_v1_CaughtUp, CaughtUp__Output as _kinfolder_sync_v1_CaughtUp__Output } from './kinfolder/sync/v1/CaughtUp';
import type { EntryBatch as _kinfolder_sync_v1_EntryBatch, EntryBatch__Output as _kinfolder_sync_v1_EntryBatch__Output } from './kinfolder/sync/v1/EntryBatch';
import type { Hello as _kinfolder_sync_v1_Hello, Hello__Output as _kinfolder_sync_v1_Hello__Output } from './kinfolder/sync/v1/Hello';
import type { Hold as _kinfolder_sync_v1_Hold, Hold__Output as _kinfolder_sync_v1_Hold__Output } from './kinfolder/sync/v1/Hold';
import type { Manifest as _kinfolder_sync_v1_Manifest, Manifest__Output as _kinfolder_sync_v1_Manifest__Output } from './kinfolder/sync/v1/Manifest';
import type { Presence as _kinfolder_sync_v1_Presence, Presence__Output as _kinfolder_sync_v1_Presence__Output } from './kinfolder/sync/v1/Presence';
import type { Refusal as _kinfolder_sync_v1_Refusal, Refusal__Output as _kinfolder_sync_v1_Refusal__Output } from './kinfolder/sync/v1/Refusal';
import type { Resume as _kinfolder_sync_v1_Resume, Resume__Output as _kinfolder_sync_v1_Resume__Output } from './kinfolder/sync/v1/Resume';
import type { ResumeFeed as _kinfolder_sync_v1_ResumeFeed, ResumeFeed__Output as _kinfolder_sync_v1_ResumeFeed__Output } from './kinfolder/sync/v1/ResumeFeed';
import type { Vector as _kinfolder_sync_v1_Vector, Vector__Output as _kinfolder_sync_v1_Vector__Output } from './kinfolder/sync/v1/Vector';
import type { VectorEntry as _kinfolder_sync_v1_VectorEntry, VectorEntry__Output as _kinfolder_sync_v1_VectorEntry__Output } from './kinfolder/sync/v1/VectorEntry';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kinfolder: {
    sync: {
      v1: {
        BlockReplies: MessageTypeDefinition<_kinfolder_sync_v1_BlockReplies, _kinfolder_sync_v1_BlockReplies__Output>
        BlockReply: MessageTypeDefinition<_kinfolder_sync_v1_BlockReply, _kinfolder_sync_v1_BlockReply__Output>
        BlockRequest: MessageTypeDefinition<_kinfolder_sync_v1_BlockRequest, _kinfolder_sync_v1_BlockRequest__Output>
        BlockRequests: MessageTypeDefinition<_kinfolder_sync_v1_BlockRequests, _kinfolder_sync_v1_BlockRequests__Output>
        CaughtUp: MessageTypeDefinition<_kinfolder_sync_v1_CaughtUp, _kinfolder_sync_v1_CaughtUp__Output>
        EntryBatch: MessageTypeDefinition<_kinfolder_sync_v1_EntryBatch, _kinfolder_sync_v1_EntryBatch__Output>
        Hello: MessageTypeDefinition<_kinfolder_sync_v1_Hello, _kinfolder_sync_v1_Hello__Output>
        Hold: MessageTypeDefinition<_kinfolder_sync_v1_Hold, _kinfolder_sync_v1_Hold__Output>
        Manifest: MessageTypeDefinition<_kinfolder_sync_v1_Manifest, _kinfolder_sync_v1_Manifest__Output>
        Presence: MessageTypeDefinition<_kinfolder_sync_v1_Presence, _kinfolder_sync_v1_Presence__Output>
        Refusal: MessageTypeDefinition<_kinfolder_sync_v1_Refusal, _kinfolder_sync_v1_Refusal__Output>
        Resume: MessageTypeDefinition<_kinfolder_sync_v1_Resume, _kinfolder_sync_v1_Resume__Output>
        ResumeFeed: MessageTypeDefinition<_kinfolder_sync_v1_ResumeFeed, _kinfolder_sync_v1_ResumeFeed__Output>
        Vector: MessageTypeDefinition<_kinfolder_sync_v1_Vector, _kinfolder_sync_v1_Vector__Output>
        VectorEntry: MessageTypeDefinition<_kinfolder_sync_v1_VectorEntry, _kinfolder_sync_v1_VectorEntry__Output>
      }
    }
  }
}

