/**
 * Chat state: group rooms (`<dataDir>/rooms.json`, atomic writes) and history, the last
 * HISTORY_PER_CONVERSATION messages of each conversation in memory and every message
 * appended to `<dataDir>/chat.jsonl`, which is read back on start.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ChatTarget, HostChatMessage, HostChatRoom } from '../adapter';
import { DevhostError } from './errors';
import { readFileIfExists, writeFileAtomic } from './fsutil';

export const HISTORY_PER_CONVERSATION = 500;
export const ROOM_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const conversationKey = (of: ChatTarget | HostChatMessage): string =>
  'room' in of && of.room ? `room:${of.room}` : `peer:${(of as { peer: string }).peer}`;

export class ChatStore {
  private readonly history = new Map<string, HostChatMessage[]>();
  private readonly rooms = new Map<string, HostChatRoom>();
  private appending: Promise<void> = Promise.resolve();
  private roomWriting: Promise<void> = Promise.resolve();

  private constructor(private readonly dataDir: string) {}

  static async open(dataDir: string, log: (m: string) => void): Promise<ChatStore> {
    const store = new ChatStore(dataDir);
    const roomsText = await readFileIfExists(store.roomsFile);
    if (roomsText !== undefined) {
      try {
        for (const r of JSON.parse(roomsText).rooms as HostChatRoom[]) store.rooms.set(r.id, r);
      } catch (err) {
        throw new DevhostError('STORE_CORRUPT', `${store.roomsFile}: ${(err as Error).message}`);
      }
    }
    const chatText = await readFileIfExists(store.chatFile);
    if (chatText !== undefined) {
      let skipped = 0;
      for (const line of chatText.split('\n')) {
        if (!line.trim()) continue;
        try {
          store.remember(JSON.parse(line) as HostChatMessage);
        } catch {
          // A crash mid-append leaves a torn last line; the rest is still good.
          skipped++;
        }
      }
      if (skipped) log(`chat history: skipped ${skipped} unreadable line(s) in ${store.chatFile}`);
      // Close a torn last line, or the next record would be glued onto it and lost too.
      if (chatText.length > 0 && !chatText.endsWith('\n')) await fs.appendFile(store.chatFile, '\n');
    }
    return store;
  }

  private get roomsFile(): string {
    return path.join(this.dataDir, 'rooms.json');
  }

  private get chatFile(): string {
    return path.join(this.dataDir, 'chat.jsonl');
  }

  private remember(m: HostChatMessage): void {
    const key = conversationKey(m);
    let list = this.history.get(key);
    if (!list) this.history.set(key, (list = []));
    list.push(m);
    if (list.length > HISTORY_PER_CONVERSATION) list.splice(0, list.length - HISTORY_PER_CONVERSATION);
  }

  /** Keeps the message in memory at once and appends it to the file (appends are serialised). */
  record(m: HostChatMessage): Promise<void> {
    this.remember(m);
    const line = `${JSON.stringify(m)}\n`;
    const next = this.appending.then(() => fs.appendFile(this.chatFile, line, { mode: 0o600 }));
    this.appending = next.catch(() => undefined);
    return next;
  }

  /** The last `limit` messages of a conversation, oldest first. */
  historyOf(of: ChatTarget, limit: number): HostChatMessage[] {
    const list = this.history.get(conversationKey(of)) ?? [];
    const n = limit > 0 ? Math.min(limit, HISTORY_PER_CONVERSATION) : HISTORY_PER_CONVERSATION;
    return list.slice(-n).map((m) => ({ ...m }));
  }

  room(id: string): HostChatRoom | undefined {
    const r = this.rooms.get(id);
    return r && { ...r, members: [...r.members] };
  }

  listRooms(): HostChatRoom[] {
    return [...this.rooms.values()].map((r) => ({ ...r, members: [...r.members] }));
  }

  putRoom(room: HostChatRoom): Promise<void> {
    this.rooms.set(room.id, { ...room, members: [...room.members] });
    const snapshot = `${JSON.stringify({ version: 1, rooms: this.listRooms() }, null, 2)}\n`;
    const next = this.roomWriting.then(() => writeFileAtomic(this.roomsFile, snapshot, 0o600));
    this.roomWriting = next.catch(() => undefined);
    return next;
  }

  async flush(): Promise<void> {
    await Promise.all([this.appending, this.roomWriting]);
  }
}
