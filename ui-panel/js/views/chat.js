// Chat: the folder's room at the host, beside the folder; lines that link a file open it in Files.
import { act, empty, failure, fill, h, loading } from '../dom.js';
import { ago, dirOf } from '../format.js';

export const FILE_LINK = '📎 ';

export function chatView(ctx) {
  const errBox = h('div', { class: 'form-error', testid: 'chat-error' });
  const log = h('ol', { class: 'chat-log', testid: 'chat-log', 'aria-live': 'polite' });
  const logBox = h('div', { class: 'chat-scroll' }, loading('messages'));
  const input = h('input', { testid: 'chat-input', placeholder: `Message ${ctx.folder().name}`, maxlength: 4000, autocomplete: 'off', 'aria-label': 'Message' });
  const send = h('button', { type: 'submit', class: 'btn primary', testid: 'chat-send' }, 'Send');
  const seen = new Set();
  const form = h('form', { class: 'chat-compose row', onsubmit: (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    void act(send, errBox, async () => {
      add(await ctx.api.sendChat(ctx.folderId, text));
      input.value = '';
      input.focus();
    });
  } }, input, send);
  const el = h('section', { class: 'chat' }, logBox, errBox, form);

  function lineText(text) {
    if (!text.startsWith(FILE_LINK)) return text;
    const path = text.slice(FILE_LINK.length).trim();
    return [FILE_LINK, h('button', { type: 'button', class: 'link', testid: 'chat-file-link', onclick: () => ctx.showTab('files', { dir: dirOf(path) }) }, path)];
  }

  function add(line) {
    if (seen.has(line.id)) return;
    seen.add(line.id);
    if (!log.isConnected) fill(logBox, log);
    log.append(h('li', { class: `chat-line${line.outgoing ? ' out' : ''}`, testid: 'chat-line', dataset: { id: line.id } },
      h('span', { class: 'from' }, line.outgoing ? 'You' : line.fromName),
      h('span', { class: 'muted small', dataset: { at: line.atMs } }, ` ${ago(line.atMs)}`),
      h('div', { class: 'text', testid: 'chat-text' }, lineText(line.text))));
    logBox.scrollTop = logBox.scrollHeight;
  }

  async function load() {
    try {
      const lines = await ctx.api.chatHistory(ctx.folderId, 200);
      if (lines.length === 0 && seen.size === 0) return fill(logBox, empty('No messages yet. Everyone in this folder reads this room.', 'no-chat'));
      for (const l of [...lines].sort((a, b) => a.atMs - b.atMs)) add(l);
    } catch (err) {
      fill(logBox, failure(err, 'chat-load-error'));
    }
  }

  void load();
  setTimeout(() => input.isConnected && input.focus(), 0);
  return {
    el,
    onEvent(e) {
      if (e.type === 'chat') add(e.line);
      else if (e.type === 'ready') void load();
    },
  };
}
