import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FerryError } from '../../shared/errors.js';
import {
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  checkPeerPath,
  isHiddenPartialName,
  joinPeerPath,
} from '../../shared/path-guard.js';

/** The FerryError code thrown by `fn`, 'OK' if it returned, or the raw error if not a FerryError. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (err) {
    if (err instanceof FerryError) return err.code;
    return `NOT A FERRYERROR: ${String(err)}`;
  }
}

const deep200 = Array.from({ length: 200 }, () => 'd').join('/');
const long5000 = Array.from({ length: 50 }, () => 'x'.repeat(99)).join('/') + 'y'; // 50*99 + 49 + 1

const HOSTILE: Array<[string, unknown]> = [
  ['absolute unix', '/etc/passwd'],
  ['absolute root', '/'],
  ['absolute single', '/x'],
  ['parent', '../x'],
  ['parent inside', 'a/../../b'],
  ['parent at end', 'a/..'],
  ['dot inside', 'a/./b'],
  ['dot', '.'],
  ['dotdot', '..'],
  ['empty', ''],
  ['double slash', 'a//b'],
  ['trailing slash', 'a/'],
  ['UNC backslash', '\\\\server\\share'],
  ['UNC slash', '//server/share'],
  ['leading backslash', '\\x'],
  ['backslash inside', 'a\\b'],
  ['backslash traversal', 'a\\..\\..\\x'],
  ['drive + backslash', 'C:\\Windows'],
  ['drive relative', 'C:x'],
  ['drive lower', 'c:'],
  ['drive lower name', 'c:foo'],
  ['drive slash', 'C:/Windows'],
  ['NUL char', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['carriage return', 'a\rb'],
  ['tab', 'a\tb'],
  ['unit separator', 'a\u001fb'],
  ['DEL', 'a\u007fb'],
  ['CON', 'CON'],
  ['con.txt', 'con.txt'],
  ['Com1', 'Com1'],
  ['COM0', 'COM0'],
  ['LPT9.log', 'LPT9.log'],
  ['aux trailing space', 'aux '],
  ['aux space before ext', 'aux .txt'],
  ['nul.tar.gz', 'nul.tar.gz'],
  ['prn in middle', 'a/prn/b'],
  ['superscript COM', 'COM\u00b9'],
  ['superscript LPT', 'lpt\u00b3.txt'],
  ['CONIN$', 'CONIN$'],
  ['conout$.x', 'conout$.x'],
  ['trailing dot', 'name.'],
  ['trailing space', 'name '],
  ['three dots', '...'],
  ['trailing dot dir', 'dir./x'],
  ['colon', 'a:b'],
  ['ADS', 'file::$DATA'],
  ['ADS in folder', 'a/file.txt:secret'],
  ['less than', 'x<y'],
  ['greater than', 'x>y'],
  ['pipe', 'x|y'],
  ['question', 'x?y'],
  ['star', 'x*y'],
  ['quote', 'x"y'],
  ['lone high surrogate', '\uD800'],
  ['lone low surrogate', 'a\uDC00b'],
  ['high surrogate at end', 'a\uDBFF'],
  ['reversed pair', '\uDC00\uD800'],
  ['name 256 bytes', 'a'.repeat(256)],
  ['name 256 bytes (2-byte chars)', '\u00e9'.repeat(128)],
  ['name 256 bytes (emoji)', '\u{1F600}'.repeat(64)],
  ['deep 200', deep200],
  [`deep ${MAX_PATH_DEPTH + 1}`, Array.from({ length: MAX_PATH_DEPTH + 1 }, () => 'd').join('/')],
  ['5000-byte path', long5000],
  ['null', null],
  ['undefined', undefined],
  ['number', 42],
  ['object', {}],
  ['array', ['a', 'b']],
  ['String object', new String('a')],
  ['ferry temp', '.ferry-x.part'],
  ['ferry temp in folder', 'a/.ferry-tmp'],
  ['ferrypart', 'x.ferrypart'],
  ['ferryjournal', 'x.ferryjournal'],
  ['ferrypart upper case', 'x.FERRYPART'],
];

describe('checkPeerPath: hostile paths', () => {
  it('has a big enough table', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE)('refuses %s', (_label, input) => {
    expect(codeOf(() => checkPeerPath(input))).toBe('FERRY_ERR_BAD_PATH');
  });

  it('quotes the path with control characters escaped', () => {
    try {
      checkPeerPath('evil\nname');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FerryError);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('refuses lengths just over the limits', () => {
    expect(long5000.length).toBe(5000);
    const atLimit = Array.from({ length: 17 }, () => 'p'.repeat(240))
      .join('/')
      .slice(0, MAX_PATH_BYTES);
    expect(atLimit.length).toBe(MAX_PATH_BYTES);
    expect(codeOf(() => checkPeerPath(atLimit + 'x'))).toBe('FERRY_ERR_BAD_PATH');
    // Counted in UTF-8 bytes, not characters: 2058 characters but 4096 bytes, then 4097.
    const wideOk = Array.from({ length: 20 }, () => '\u00e9'.repeat(100)).join('/') + '/' + '\u00e9'.repeat(38);
    expect(wideOk.length).toBe(2058);
    const wide = wideOk + 'x';
    expect(codeOf(() => checkPeerPath(wide))).toBe('FERRY_ERR_BAD_PATH');
    expect(codeOf(() => checkPeerPath(wide.slice(0, -1)))).toBe('OK');
    expect(codeOf(() => checkPeerPath(Array.from({ length: MAX_PATH_DEPTH + 1 }, () => 'd').join('/')))).toBe(
      'FERRY_ERR_BAD_PATH',
    );
  });
});

describe('checkPeerPath: accepted paths', () => {
  const ACCEPTED: Array<[string, string[]]> = [
    ['a', ['a']],
    ['a/b/c.txt', ['a', 'b', 'c.txt']],
    ['with space.txt', ['with space.txt']],
    [' leading space', [' leading space']],
    ['\u00fcn\u00efc\u00f6d\u00e9', ['\u00fcn\u00efc\u00f6d\u00e9']],
    ['\u65e5\u672c\u8a9e/\u0444\u0430\u0439\u043b', ['\u65e5\u672c\u8a9e', '\u0444\u0430\u0439\u043b']],
    ['a'.repeat(255), ['a'.repeat(255)]],
    ['\u00e9'.repeat(127) + 'a', ['\u00e9'.repeat(127) + 'a']], // 255 bytes
    ['\u{1F600}\u{1F4C1}.png', ['\u{1F600}\u{1F4C1}.png']],
    ['\u{1F600}'.repeat(63), ['\u{1F600}'.repeat(63)]], // 252 bytes
    ['.hidden', ['.hidden']],
    ['...dots', ['...dots']],
    ['..a', ['..a']],
    ['name.tar.gz', ['name.tar.gz']],
    ['CONSOLE', ['CONSOLE']],
    ['COM10', ['COM10']],
    ['LPT', ['LPT']],
    ['icon', ['icon']],
    ['con-fig.txt', ['con-fig.txt']],
    ['ferry-notes.txt', ['ferry-notes.txt']],
    ['.ferryrc', ['.ferryrc']],
    ['x.ferrypart.txt', ['x.ferrypart.txt']],
    ['$DATA', ['$DATA']],
    ['a-b_c (1) [2] {3} #4 %5 &6 +7 =8 ,9 ;0 @ ! ~ ^ `', ['a-b_c (1) [2] {3} #4 %5 &6 +7 =8 ,9 ;0 @ ! ~ ^ `']],
    [Array.from({ length: MAX_PATH_DEPTH }, () => 'd').join('/'), Array.from({ length: MAX_PATH_DEPTH }, () => 'd')],
  ];

  it.each(ACCEPTED)('accepts %j', (input, expected) => {
    expect(checkPeerPath(input)).toEqual(expected);
  });

  it('accepts a path of exactly MAX_PATH_BYTES', () => {
    const p = Array.from({ length: 17 }, () => 'p'.repeat(240))
      .join('/')
      .slice(0, MAX_PATH_BYTES);
    expect(p.length).toBe(MAX_PATH_BYTES);
    expect(checkPeerPath(p).join('/')).toBe(p);
  });

  it('keeps NFC and NFD names distinct and unchanged', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    expect(nfc).not.toBe(nfd);
    expect(nfc.normalize('NFC')).toBe(nfd.normalize('NFC'));
    const a = checkPeerPath(nfc);
    const b = checkPeerPath(`dir/${nfd}`);
    expect(a).toEqual([nfc]);
    expect(b).toEqual(['dir', nfd]);
    expect(a[0]).not.toBe(b[1]);
  });

  it('name byte limit counts UTF-8 bytes', () => {
    expect(checkPeerPath('\u00e9'.repeat(127))).toHaveLength(1); // 254 bytes
    expect(MAX_NAME_BYTES).toBe(255);
  });
});

describe('checkPeerPath: root', () => {
  it('returns [] for the empty path with allowRoot', () => {
    expect(checkPeerPath('', { allowRoot: true })).toEqual([]);
  });
  it('refuses the empty path without allowRoot', () => {
    expect(codeOf(() => checkPeerPath(''))).toBe('FERRY_ERR_BAD_PATH');
    expect(codeOf(() => checkPeerPath('', { allowRoot: false }))).toBe('FERRY_ERR_BAD_PATH');
  });
  it('still refuses "/", "." and ".." with allowRoot', () => {
    for (const p of ['/', '.', '..', './']) {
      expect(codeOf(() => checkPeerPath(p, { allowRoot: true }))).toBe('FERRY_ERR_BAD_PATH');
    }
  });
  it('accepts normal paths with allowRoot', () => {
    expect(checkPeerPath('a/b', { allowRoot: true })).toEqual(['a', 'b']);
  });
});

describe('joinPeerPath', () => {
  it('joins with "/" and skips empty parts', () => {
    expect(joinPeerPath('a', 'b', 'c.txt')).toBe('a/b/c.txt');
    expect(joinPeerPath('', 'x')).toBe('x');
    expect(joinPeerPath('a', '', 'b')).toBe('a/b');
    expect(joinPeerPath()).toBe('');
    expect(joinPeerPath('')).toBe('');
    expect(joinPeerPath('a/b', 'c')).toBe('a/b/c');
  });
});

describe('isHiddenPartialName', () => {
  it.each(['.ferry-x.part', '.ferry-', 'x.ferrypart', '.ferrypart', 'x.ferryjournal', 'X.FerryPart'])(
    'hides %j',
    (n) => {
      expect(isHiddenPartialName(n)).toBe(true);
    },
  );
  it.each(['ferry-x', 'x.ferry', 'x.ferrypart.bak', '.ferryrc', 'a.ferry', 'journal', 'x.part'])('shows %j', (n) => {
    expect(isHiddenPartialName(n)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const SAFE_CHARS = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ..."-_.() +,;=[]{}@!~#$%&'^`",
  ...'\u00e9\u00fc\u00df\u00f1\u0107\u0119\u0142\u044f\u0436\u03bb\u05d0\u0639\u4e2d\u6587\u3042\u30ab\ud55c',
  'e\u0301', // NFD e + combining acute
  '\u{1F600}',
  '\u{1F4C1}',
  '\u{10348}',
];

const RESERVED_RE =
  /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$) *(\.|$)/i;

const safeComponent = fc
  .string({ unit: fc.constantFrom(...SAFE_CHARS), minLength: 1, maxLength: 20 })
  .filter(
    (s) =>
      s !== '.' &&
      s !== '..' &&
      !s.endsWith('.') &&
      !s.endsWith(' ') &&
      !RESERVED_RE.test(s) &&
      !isHiddenPartialName(s),
  );

const safeComponents = fc.array(safeComponent, { minLength: 1, maxLength: 10 });

describe('checkPeerPath: properties', () => {
  it('(a) safe components joined with "/" round-trip unchanged', () => {
    fc.assert(
      fc.property(safeComponents, (parts) => {
        const p = parts.join('/');
        expect(checkPeerPath(p)).toEqual(parts);
        expect(checkPeerPath(joinPeerPath('', ...parts, ''))).toEqual(parts);
      }),
      { numRuns: 500 },
    );
  });

  const withDotDot = fc.tuple(safeComponents, fc.nat(), fc.constantFrom('..', '.', '')).map(([parts, at, bad]) => {
    const copy = [...parts];
    copy.splice(at % (copy.length + 1), 0, bad);
    return copy.join('/');
  });
  const absolute = safeComponents.map((parts) => '/' + parts.join('/'));
  const withChar = fc
    .tuple(safeComponents, fc.nat(), fc.constantFrom('\u0000', '\\', ':', '\n', '\u007f', '\uD800', '\uDFFF'))
    .map(([parts, at, ch]) => {
      const p = parts.join('/');
      const i = at % (p.length + 1);
      return p.slice(0, i) + ch + p.slice(i);
    });

  it('(b) paths with "..", a leading "/", NUL or a backslash are refused', () => {
    fc.assert(
      fc.property(fc.oneof(withDotDot, absolute, withChar), (p) => {
        expect(codeOf(() => checkPeerPath(p))).toBe('FERRY_ERR_BAD_PATH');
        expect(codeOf(() => checkPeerPath(p, { allowRoot: true }))).toBe('FERRY_ERR_BAD_PATH');
      }),
      { numRuns: 1000 },
    );
  });

  it('(c) any string is either refused with BAD_PATH or split losslessly into safe names', () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({
        unit: fc.constantFrom('a', '.', '/', '\\', ':', ' ', 'C', 'o', 'n', '\u0000', '\uD800'),
        maxLength: 12,
      }),
    );
    fc.assert(
      fc.property(anyString, (p) => {
        let parts: string[];
        try {
          parts = checkPeerPath(p);
        } catch (err) {
          expect(err).toBeInstanceOf(FerryError);
          expect((err as FerryError).code).toBe('FERRY_ERR_BAD_PATH');
          return;
        }
        expect(parts.join('/')).toBe(p);
        for (const c of parts) {
          expect(c).not.toBe('');
          expect(c).not.toBe('.');
          expect(c).not.toBe('..');
          // eslint-disable-next-line no-control-regex -- control characters are exactly what the guard refuses
          expect(c).not.toMatch(/[\\:\u0000-\u001f\u007f]/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
