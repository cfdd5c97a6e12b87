// Original file: /work/main/proto/host.proto


export interface GetSelfRequest {
}

export interface GetSelfRequest__Output {
}
