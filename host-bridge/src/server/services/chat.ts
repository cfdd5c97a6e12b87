/** Chat service: one-to-one and room messages, rooms, history. */
import { CHAT_MAX_TEXT_BYTES } from '../../../../proto';
import type { ChatHandlers } from '../../../../proto/generated/kinfolder/host/v1/Chat';
import type { ChatTarget } from '../../adapter';
import { type ServiceContext, serverStream, unary } from '../context';
import { Refusal } from '../errors';
import { fingerprint, maxBytes, roomId } from '../validate';
import { chatMessageToWire, chatRoomToWire } from '../wire';

const DEFAULT_HISTORY = 100;
const MAX_HISTORY = 1000;

function target(of: 'peer' | 'room' | undefined, peer: string | undefined, room: string | undefined, field: string): ChatTarget {
  if (of === 'peer') return { peer: fingerprint(peer, 'peer') };
  if (of === 'room') return { room: roomId(room, 'room') };
  throw new Refusal('INVALID_ARGUMENT', `${field}: set either peer or room`);
}

export function chatHandlers(ctx: ServiceContext): ChatHandlers {
  return {
    Send: unary(ctx, 'Chat.Send', 'chat', async (req) => {
      const to = target(req.to, req.peer, req.room, 'to');
      if (req.text.length === 0) throw new Refusal('INVALID_ARGUMENT', 'text must not be empty');
      maxBytes(Buffer.byteLength(req.text, 'utf8'), CHAT_MAX_TEXT_BYTES, 'text', 'INVALID_ARGUMENT');
      const { message, deliveredTo } = await ctx.adapter.sendChat(to, req.text);
      return { message: chatMessageToWire(message), deliveredTo };
    }),
    Watch: serverStream(ctx, 'Chat.Watch', 'chat', (call, _plugin, fail) => {
      const room = call.request.room;
      if (room !== '') roomId(room, 'room');
      const sub = ctx.adapter.chatMessages.subscribe({
        next: (m) => {
          if (room === '' || m.room === room) call.write(chatMessageToWire(m));
        },
        error: fail,
        complete: () => call.end(),
      });
      return () => sub.unsubscribe();
    }),
    JoinRoom: unary(ctx, 'Chat.JoinRoom', 'chat', async (req) => {
      const id = roomId(req.room, 'room');
      const members = req.members.map((m, i) => fingerprint(m, `members[${i}]`));
      return chatRoomToWire(await ctx.adapter.joinRoom({ id, title: req.title, members }));
    }),
    ListRooms: unary(ctx, 'Chat.ListRooms', 'chat', () => ({ rooms: ctx.adapter.listRooms().map(chatRoomToWire) })),
    History: unary(ctx, 'Chat.History', 'chat', (req) => {
      const of = target(req.of, req.peer, req.room, 'of');
      const limit = Math.min(req.limit === 0 ? DEFAULT_HISTORY : req.limit, MAX_HISTORY);
      return { messages: ctx.adapter.chatHistory(of, limit).map(chatMessageToWire) };
    }),
  };
}
