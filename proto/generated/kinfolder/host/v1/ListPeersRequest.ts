// Original file: host.proto


export interface ListPeersRequest {
}

export interface ListPeersRequest__Output {
}
