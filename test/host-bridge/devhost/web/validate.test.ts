import { WebError } from '../../../../host-bridge/src/devhost/web/errors';
import {
  panelFrameUrl,
  parseChatTarget,
  parseFingerprint,
  parseHistoryLimit,
} from '../../../../host-bridge/src/devhost/web/validate';

const FP = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';
const panel = (url: string) => ({ pluginId: 'kinfolder', id: 'folders', title: 'Folders', icon: '📁', url });

describe('parseFingerprint', () => {
  it('normalises case and spacing', () => {
    expect(parseFingerprint(FP.toLowerCase())).toBe(FP);
    expect(parseFingerprint(FP.replace(/(.{4})/g, '$1 '))).toBe(FP);
  });
  it('refuses anything else', () => {
    for (const v of [FP.slice(1), FP + '0', 'G'.repeat(40), 42, null]) expect(() => parseFingerprint(v)).toThrow(WebError);
  });
});

describe('parseChatTarget', () => {
  it('takes exactly one of peer and room', () => {
    expect(parseChatTarget(FP, undefined)).toEqual({ peer: FP });
    expect(parseChatTarget(undefined, 'family')).toEqual({ room: 'family' });
    expect(() => parseChatTarget(FP, 'family')).toThrow(/exactly one/);
    expect(() => parseChatTarget('', '')).toThrow(/exactly one/);
    expect(() => parseChatTarget(undefined, 'r'.repeat(129))).toThrow(/at most/);
  });
});

describe('parseHistoryLimit', () => {
  it('defaults, bounds and refuses non-integers', () => {
    expect(parseHistoryLimit(null)).toBe(200);
    expect(parseHistoryLimit('1')).toBe(1);
    expect(parseHistoryLimit('1000')).toBe(1000);
    for (const v of ['0', '1001', '1.5', 'abc', '-3', '1e3']) expect(() => parseHistoryLimit(v)).toThrow(WebError);
  });
});

describe('panelFrameUrl', () => {
  const ui = ['http://127.0.0.1:4000', 'http://localhost:4000'];
  it('appends the token as a fragment, replacing any fragment there was', () => {
    expect(panelFrameUrl(panel('http://127.0.0.1:5000/ui/?x=1'), 'tok', ui)).toBe('http://127.0.0.1:5000/ui/?x=1#token=tok');
    expect(panelFrameUrl(panel('http://localhost:5000/ui#old'), 'a b&c', ui)).toBe('http://localhost:5000/ui#token=a%20b%26c');
  });
  it('refuses other schemes, other hosts and the UI’s own origin', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'http://10.0.0.1:5000/', 'http://127.0.0.1:4000/x', 'not a url']) {
      expect(() => panelFrameUrl(panel(url), 'tok', ui)).toThrow(expect.objectContaining({ code: 'PANEL_URL_REFUSED' }));
    }
  });
});
