// Original file: host.proto


export interface ListRoomsRequest {
}

export interface ListRoomsRequest__Output {
}
