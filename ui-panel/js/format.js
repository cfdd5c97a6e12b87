// How numbers, times and people read in the panel.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export const rate = (bps) => `${bytes(bps)}/s`;

export function plural(n, one, many = one + 's') {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 min ago" for the last day, a date after that; the exact time is in the title. */
export function ago(ms, now = Date.now()) {
  if (!ms) return '';
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export const exact = (ms) => (ms ? new Date(ms).toLocaleString() : '');

/** The tail of a fingerprint, grouped, as people compare them. */
export function shortFp(fp) {
  return (fp || '').slice(-16).replace(/(.{4})(?=.)/g, '$1 ');
}

export function dirOf(path) {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * Changes known to be missing here, "at least" when a peer's count is the vector it said before
 * its link came up (it may have more by now); nothing when none are known.
 */
function changesToReceive(st) {
  if (!st.behindEntries) return '';
  return `${st.behindEntriesLastKnown ? 'at least ' : ''}${plural(st.behindEntries, 'change')} to receive`;
}

const detailLine = (...parts) => parts.filter(Boolean).join(' · ');

/** The folder's state as Syncthing people read it: a label, a tone for the badge, and a detail line. */
export function describeStatus(st) {
  const peersOnline = (st.peers || []).filter((p) => p.online).length;
  const peers = `${peersOnline}/${(st.peers || []).length} peers online`;
  switch (st.state) {
    case 'in-sync':
      return { label: 'Up to date', tone: 'ok', detail: peers };
    case 'behind':
      return { label: 'Behind', tone: 'warn', detail: detailLine(changesToReceive(st), `${plural(st.behindFiles, 'file')}, ${bytes(st.behindBytes)} to fetch`, peers) };
    case 'checking': {
      // Not "up to date" yet: these peers may hold changes this node has not heard of.
      const waiting = (st.peers || []).filter((p) => p.state === 'checking').map((p) => p.name);
      return { label: 'Checking', tone: 'busy', detail: detailLine(`waiting for ${waiting.join(', ') || 'peers'} to say what they have`, changesToReceive(st), peers) };
    }
    case 'transferring':
      return { label: 'Syncing', tone: 'busy', detail: `${rate(st.rateBytesPerS)} · ${plural(st.behindFiles, 'file')}, ${bytes(st.behindBytes)} left` };
    case 'offline': {
      // What the members said before going away: changes this node still lacks.
      const silent = (st.peers || []).filter((p) => p.state === 'no-answer').map((p) => p.name);
      const why = silent.length ? `Kinfolder does not answer on ${silent.join(', ')}` : 'no other member is online';
      return { label: 'Offline', tone: 'off', detail: detailLine(why, changesToReceive(st)) };
    }
    case 'scanning':
      return { label: 'Scanning', tone: 'busy', detail: st.scan ? `${st.scan.done} of ${st.scan.total} files` : 'reading the folder' };
    default:
      return { label: st.state, tone: 'off', detail: '' };
  }
}

const TEXT_EXT = /\.(txt|md|markdown|csv|tsv|json|ya?ml|toml|ini|cfg|conf|xml|html?|css|js|mjs|ts|tsx|jsx|py|rb|go|rs|c|h|cpp|hpp|java|kt|sh|bash|zsh|sql|tex|log|srt|org|rst)$/i;
export const looksText = (path) => TEXT_EXT.test(path) || !/\.[^/]+$/.test(path);
