// Original file: host.proto


export interface WatchPeersRequest {
}

export interface WatchPeersRequest__Output {
}
