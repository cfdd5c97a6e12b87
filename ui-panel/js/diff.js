// A line diff of two texts (longest common subsequence), for conflicts between text versions.
// Bounded: past MAX_CELLS it reports the texts as wholly replaced instead of using seconds of CPU.

const MAX_CELLS = 4_000_000;

/** [{ op: ' ' | '-' | '+', line }] turning `a` into `b`. */
export function lineDiff(a, b) {
  const x = splitLines(a);
  const y = splitLines(b);
  // Common head and tail cost nothing and keep the table small.
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let end = 0;
  while (end < x.length - start && end < y.length - start && x[x.length - 1 - end] === y[y.length - 1 - end]) end++;
  const xs = x.slice(start, x.length - end);
  const ys = y.slice(start, y.length - end);
  const head = x.slice(0, start).map((line) => ({ op: ' ', line }));
  const tail = x.slice(x.length - end).map((line) => ({ op: ' ', line }));
  return [...head, ...middle(xs, ys), ...tail];
}

function middle(xs, ys) {
  const n = xs.length;
  const m = ys.length;
  if (n * m > MAX_CELLS) return [...xs.map((line) => ({ op: '-', line })), ...ys.map((line) => ({ op: '+', line }))];
  // lcs[i][j]: length of the LCS of xs[i..] and ys[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = xs[i] === ys[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (xs[i] === ys[j]) { out.push({ op: ' ', line: xs[i] }); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: '-', line: xs[i++] });
    else out.push({ op: '+', line: ys[j++] });
  }
  while (i < n) out.push({ op: '-', line: xs[i++] });
  while (j < m) out.push({ op: '+', line: ys[j++] });
  return out;
}

function splitLines(text) {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
