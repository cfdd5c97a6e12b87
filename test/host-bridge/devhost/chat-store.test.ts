import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { HostChatMessage } from '../../../host-bridge/src/adapter';
import { ChatStore, HISTORY_PER_CONVERSATION } from '../../../host-bridge/src/devhost/chat';
import { tempDir } from './helpers';

const msg = (i: number, peer = 'P'): HostChatMessage => ({ id: `m${i}`, from: peer, fromName: 'p', peer, room: '', text: `t${i}`, sentAtMs: i, outgoing: false });

describe('chat store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('kf-chat-');
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  test('keeps the last 500 per conversation, in order, across a reload; a torn last line is skipped', async () => {
    const store = await ChatStore.open(dir, () => undefined);
    for (let i = 0; i < HISTORY_PER_CONVERSATION + 10; i++) void store.record(msg(i));
    await store.record(msg(1, 'Q'));
    await store.flush();
    const hist = store.historyOf({ peer: 'P' }, 0);
    expect(hist).toHaveLength(HISTORY_PER_CONVERSATION);
    expect(hist[0].id).toBe('m10');
    expect(store.historyOf({ peer: 'P' }, 3).map((m) => m.id)).toEqual([`m${HISTORY_PER_CONVERSATION + 7}`, `m${HISTORY_PER_CONVERSATION + 8}`, `m${HISTORY_PER_CONVERSATION + 9}`]);
    expect(store.historyOf({ peer: 'Q' }, 10).map((m) => m.id)).toEqual(['m1']);

    await fs.appendFile(path.join(dir, 'chat.jsonl'), '{"id":"torn');
    const logs: string[] = [];
    const reloaded = await ChatStore.open(dir, (l) => logs.push(l));
    expect(reloaded.historyOf({ peer: 'P' }, 0)).toEqual(hist);
    expect(logs.join()).toMatch(/skipped 1/);
    await reloaded.record(msg(9999));
    const third = await ChatStore.open(dir, () => undefined);
    expect(third.historyOf({ peer: 'P' }, 1).map((m) => m.id)).toEqual(['m9999']);
  });

  test('rooms persist', async () => {
    const store = await ChatStore.open(dir, () => undefined);
    await store.putRoom({ id: 'r1', title: 'Room', members: ['A', 'B'] });
    const reloaded = await ChatStore.open(dir, () => undefined);
    expect(reloaded.listRooms()).toEqual([{ id: 'r1', title: 'Room', members: ['A', 'B'] }]);
  });
});
