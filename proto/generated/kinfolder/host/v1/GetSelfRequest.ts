// Original file: host.proto


export interface GetSelfRequest {
}

export interface GetSelfRequest__Output {
}
