import { allowedOrigins, isAllowedHost, isAllowedOrigin, presentedToken, tokenMatches } from '../../../../host-bridge/src/devhost/web/guard';

describe('isAllowedHost', () => {
  it('accepts loopback names on the listening port only', () => {
    expect(isAllowedHost('127.0.0.1:8080', 8080)).toBe(true);
    expect(isAllowedHost('localhost:8080', 8080)).toBe(true);
    expect(isAllowedHost('[::1]:8080', 8080)).toBe(true);
    expect(isAllowedHost('127.0.0.1', 80)).toBe(true);
    expect(isAllowedHost('127.0.0.1:8081', 8080)).toBe(false);
    expect(isAllowedHost('127.0.0.1', 8080)).toBe(false);
  });

  it('refuses names a rebinding page would send', () => {
    for (const h of ['attacker.example:8080', 'localhost.attacker.example:8080', '127.0.0.1.nip.io:8080', '0.0.0.0:8080', '', undefined]) {
      expect(isAllowedHost(h, 8080)).toBe(false);
    }
  });
});

describe('isAllowedOrigin', () => {
  it('accepts only the UI’s own origins', () => {
    expect(allowedOrigins(5000)).toContain('http://127.0.0.1:5000');
    expect(isAllowedOrigin('http://localhost:5000', 5000)).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:5001', 5000)).toBe(false);
    expect(isAllowedOrigin('https://127.0.0.1:5000', 5000)).toBe(false);
    expect(isAllowedOrigin('null', 5000)).toBe(false);
    expect(isAllowedOrigin(undefined, 5000)).toBe(false);
  });
});

describe('tokens', () => {
  it('reads the header first, then Bearer, then ?t=', () => {
    const q = new URLSearchParams('t=fromquery');
    expect(presentedToken({ 'x-devhost-token': 'h', authorization: 'Bearer b' }, q)).toBe('h');
    expect(presentedToken({ authorization: 'Bearer b' }, q)).toBe('b');
    expect(presentedToken({ authorization: 'Basic abc' }, q)).toBe('fromquery');
    expect(presentedToken({}, new URLSearchParams())).toBeUndefined();
  });

  it('matches exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
  });
});
