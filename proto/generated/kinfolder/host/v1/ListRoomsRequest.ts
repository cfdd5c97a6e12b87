// Original file: /work/main/proto/host.proto


export interface ListRoomsRequest {
}

export interface ListRoomsRequest__Output {
}
