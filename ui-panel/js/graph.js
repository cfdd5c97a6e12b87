// The small transfer-rate graph of a folder: the last minute of receive rates as an SVG sparkline.

const NS = 'http://www.w3.org/2000/svg';

export function rateGraph(history, { width = 120, height = 28 } = {}) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'rate-graph');
  svg.setAttribute('role', 'img');
  svg.dataset.testid = 'rate-graph';
  const samples = (history || []).slice(-60);
  const max = Math.max(1, ...samples);
  svg.setAttribute('aria-label', samples.length ? `transfer rate over the last ${samples.length} s, peak ${Math.round(max / 1000)} KB/s` : 'no transfers lately');
  if (samples.length < 2) return svg;
  const step = width / (samples.length - 1);
  const points = samples.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  const area = document.createElementNS(NS, 'polygon');
  area.setAttribute('points', `0,${height} ${points.join(' ')} ${width},${height}`);
  area.setAttribute('class', 'rate-area');
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('class', 'rate-line');
  svg.append(area, line);
  return svg;
}
