// Original file: /work/main/proto/host.proto


export interface ListPeersRequest {
}

export interface ListPeersRequest__Output {
}
