// Original file: /work/main/proto/host.proto


export interface WatchPeersRequest {
}

export interface WatchPeersRequest__Output {
}
