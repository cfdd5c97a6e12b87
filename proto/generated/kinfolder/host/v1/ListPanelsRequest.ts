// Original file: host.proto


export interface ListPanelsRequest {
}

export interface ListPanelsRequest__Output {
}
