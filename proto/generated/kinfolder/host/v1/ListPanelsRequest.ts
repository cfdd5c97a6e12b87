// Original file: /work/main/proto/host.proto


export interface ListPanelsRequest {
}

export interface ListPanelsRequest__Output {
}
