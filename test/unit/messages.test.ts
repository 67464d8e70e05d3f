import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeControl, encodeControl } from '../../electron/core/protocol/codec.js';
import { FRAME_HEADER_SIZE } from '../../electron/core/protocol/constants.js';
import { type MessageType, validateMessage } from '../../electron/core/protocol/messages.js';
import { codeOf, EXAMPLE_MESSAGES, OPTIONAL_FIELDS } from '../helpers/frames.js';

type Loose = { t: string } & Record<string, unknown>;

const TYPES = Object.keys(EXAMPLE_MESSAGES) as MessageType[];

/** A deep copy, as a peer's message would arrive: JSON in, JSON out. */
function copy(m: object): Loose {
  return JSON.parse(JSON.stringify(m)) as Loose;
}

function check(m: unknown): string {
  return codeOf(() => validateMessage(m as Loose));
}

/** Through the real receive path: encoded, decoded as a control body, then validated. */
function viaWire(m: object): string {
  return codeOf(() => validateMessage(decodeControl(encodeControl(m).subarray(FRAME_HEADER_SIZE))));
}

describe('validateMessage: valid messages', () => {
  it('knows all 23 message types', () => {
    expect(TYPES.length).toBe(23);
  });

  it.each(TYPES)('accepts the example "%s" and returns it unchanged', (t) => {
    const m = copy(EXAMPLE_MESSAGES[t]);
    expect(validateMessage(m)).toBe(m);
    expect(viaWire(EXAMPLE_MESSAGES[t])).toBe('OK');
  });

  it.each([
    [
      'hello with session and key (the server answer)',
      { ...EXAMPLE_MESSAGES.hello, session: '0123456789abcdef', key: '0123456789abcdef0123456789abcdef' },
    ],
    [
      'hello with join (a data socket)',
      { ...EXAMPLE_MESSAGES.hello, join: { session: '0123456789abcdef', key: 'ab'.repeat(16) } },
    ],
    ['hello with no caps', { ...EXAMPLE_MESSAGES.hello, caps: [] }],
    [
      'hello with 256-character name and device',
      { ...EXAMPLE_MESSAGES.hello, name: 'n'.repeat(256), device: 'd'.repeat(256) },
    ],
    ['offer without to and conflict', { t: 'offer', xfer: 1, files: [], last: true }],
    ['offer, every conflict policy', { t: 'offer', xfer: 1, files: [], conflict: 'overwrite', last: false }],
    ['offer, skip policy', { t: 'offer', xfer: 1, files: [], conflict: 'skip', last: false }],
    [
      'offer with a negative, fractional mtime',
      { t: 'offer', xfer: 1, files: [{ path: 'a', kind: 'file', size: 0, mtime: -1.5, bs: 1048576 }], last: true },
    ],
    [
      'reply with every action',
      {
        t: 'reply',
        xfer: 1,
        d: [
          { i: 0, a: 'send' },
          { i: 1, a: 'resume', have: 'Bw==' },
          { i: 2, a: 'skip', reason: 'identical' },
          { i: 3, a: 'skip', code: 14, reason: 'exists' },
          { i: 4, a: 'refuse', code: 9, reason: 'bad path' },
        ],
        last: false,
      },
    ],
    ['empty reply (last part, nothing to decide)', { t: 'reply', xfer: 1, d: [], last: true }],
    [
      'list-part with every entry kind',
      {
        t: 'list-part',
        req: 1,
        entries: (['file', 'dir', 'link', 'other'] as const).map((kind) => ({ name: kind, kind, size: 0, mtime: 0 })),
      },
    ],
    ['list of the root', { t: 'list', req: 0, path: '' }],
    ['landed with a failure entry', { t: 'landed', xfer: 1, files: [{ f: 2, code: 18, message: 'checksum' }] }],
    ['ack with no blocks', { t: 'ack', xfer: 1, b: [] }],
    ['end with a 64-character root', { t: 'end', xfer: 1, f: 0, root: 'a'.repeat(64) }],
    ['error with a 65,536-character message', { t: 'error', code: 1, message: 'm'.repeat(65_536) }],
    ['get of the whole share', { t: 'get', xfer: 1, paths: [''] }],
    ['unknown extra fields (ignored)', { t: 'ping', id: 1, future: { x: [1, 2] } }],
    ['numbers up to 2^53 - 1', { t: 'ping', id: Number.MAX_SAFE_INTEGER }],
  ])('accepts %s', (_label, m) => {
    expect(check(copy(m))).toBe('OK');
  });

  it('refuses an ack with an odd number of entries (acks are file, block pairs)', () => {
    expect(check({ t: 'ack', xfer: 1, b: [1, 2, 3] })).toBe('FERRY_ERR_PROTOCOL');
  });
});

describe('validateMessage: malformed messages are FERRY_ERR_PROTOCOL', () => {
  it.each(['', 'HELLO', 'bogus', 'list_part', 'hello ', 'x'.repeat(1000), '__proto__', 'constructor', 'toString'])(
    'refuses unknown type %j',
    (t) => {
      expect(check({ t, id: 1 })).toBe('FERRY_ERR_PROTOCOL');
    },
  );

  for (const t of TYPES) {
    const example = copy(EXAMPLE_MESSAGES[t]);
    const optional = OPTIONAL_FIELDS[t] ?? [];
    const required = Object.keys(example).filter((k) => k !== 't' && !optional.includes(k));

    if (required.length > 0) {
      it.each(required)(`refuses "${t}" without its required field %s`, (k) => {
        const m = copy(example);
        delete m[k];
        expect(check(m)).toBe('FERRY_ERR_PROTOCOL');
      });
    }

    for (const k of optional) {
      if (!(k in example)) continue;
      it(`accepts "${t}" without its optional field ${k}`, () => {
        const m = copy(example);
        delete m[k];
        expect(check(m)).toBe('OK');
      });
    }

    const fields = Object.keys(example).filter((k) => k !== 't');
    for (const k of fields) {
      const v = example[k];
      const wrong: unknown[] =
        typeof v === 'number'
          ? [-1, 1.5, -0.5, 2 ** 53, '1', null, true, [], {}, Number.NaN, Infinity]
          : typeof v === 'string'
            ? [1, null, true, [], {}]
            : typeof v === 'boolean'
              ? ['true', 1, 0, null, [], {}]
              : Array.isArray(v)
                ? ['x', 1, null, {}, true]
                : [1, 'x', null, []];
      it(`refuses "${t}" with a wrong ${typeof v === 'object' ? (Array.isArray(v) ? 'list' : 'object') : typeof v} in ${k}`, () => {
        for (const w of wrong) {
          const m = copy(example);
          m[k] = w;
          expect(check(m), `${k} = ${JSON.stringify(w)}`).toBe('FERRY_ERR_PROTOCOL');
        }
      });
    }
  }

  const BAD: [string, unknown][] = [
    ['hello: a name over 256 characters', { ...EXAMPLE_MESSAGES.hello, name: 'n'.repeat(257) }],
    ['hello: a device over 256 characters', { ...EXAMPLE_MESSAGES.hello, device: 'd'.repeat(257) }],
    ['hello: a caps entry that is not a string', { ...EXAMPLE_MESSAGES.hello, caps: ['resume', 1] }],
    ['hello: null session', { ...EXAMPLE_MESSAGES.hello, session: null }],
    ['hello: numeric key', { ...EXAMPLE_MESSAGES.hello, key: 5 }],
    ['hello: join that is a string', { ...EXAMPLE_MESSAGES.hello, join: 'abc' }],
    ['hello: join without key', { ...EXAMPLE_MESSAGES.hello, join: { session: 'a' } }],
    ['hello: join without session', { ...EXAMPLE_MESSAGES.hello, join: { key: 'a' } }],
    ['hello: join session over 256', { ...EXAMPLE_MESSAGES.hello, join: { session: 's'.repeat(257), key: 'k' } }],
    ['hello: join that is null', { ...EXAMPLE_MESSAGES.hello, join: null }],
    ['error: a message over 64 KiB characters', { t: 'error', code: 1, message: 'm'.repeat(65_537) }],
    ['list-part: an entry that is not an object', { t: 'list-part', req: 1, entries: ['cat.jpg'] }],
    ['list-part: an entry that is null', { t: 'list-part', req: 1, entries: [null] }],
    [
      'list-part: an unknown kind',
      { t: 'list-part', req: 1, entries: [{ name: 'a', kind: 'symlink', size: 0, mtime: 0 }] },
    ],
    [
      'list-part: a negative size',
      { t: 'list-part', req: 1, entries: [{ name: 'a', kind: 'file', size: -1, mtime: 0 }] },
    ],
    [
      'list-part: a fractional size',
      { t: 'list-part', req: 1, entries: [{ name: 'a', kind: 'file', size: 0.5, mtime: 0 }] },
    ],
    [
      'list-part: a string mtime',
      { t: 'list-part', req: 1, entries: [{ name: 'a', kind: 'file', size: 0, mtime: '0' }] },
    ],
    ['list-part: a missing mtime', { t: 'list-part', req: 1, entries: [{ name: 'a', kind: 'file', size: 0 }] }],
    [
      'list-part: a name over 4096 characters',
      { t: 'list-part', req: 1, entries: [{ name: 'a'.repeat(4097), kind: 'file', size: 0, mtime: 0 }] },
    ],
    ['list-part: a numeric name', { t: 'list-part', req: 1, entries: [{ name: 1, kind: 'file', size: 0, mtime: 0 }] }],
    ['get: a path that is not a string', { t: 'get', xfer: 1, paths: ['a', null] }],
    ['offer: an unknown conflict policy', { ...EXAMPLE_MESSAGES.offer, conflict: 'replace' }],
    ['offer: a numeric to', { ...EXAMPLE_MESSAGES.offer, to: 1 }],
    ['offer: a null to', { ...EXAMPLE_MESSAGES.offer, to: null }],
    [
      'offer: a link entry',
      { t: 'offer', xfer: 1, files: [{ path: 'a', kind: 'link', size: 0, mtime: 0, bs: 1 }], last: true },
    ],
    [
      'offer: an entry without a path',
      { t: 'offer', xfer: 1, files: [{ kind: 'file', size: 0, mtime: 0, bs: 1 }], last: true },
    ],
    [
      'offer: a fractional block size',
      { t: 'offer', xfer: 1, files: [{ path: 'a', kind: 'file', size: 0, mtime: 0, bs: 1.5 }], last: true },
    ],
    [
      'offer: a negative size',
      { t: 'offer', xfer: 1, files: [{ path: 'a', kind: 'file', size: -1, mtime: 0, bs: 1 }], last: true },
    ],
    [
      'offer: a size over 2^53',
      { t: 'offer', xfer: 1, files: [{ path: 'a', kind: 'file', size: 2 ** 53, mtime: 0, bs: 1 }], last: true },
    ],
    [
      'offer: a null mtime',
      { t: 'offer', xfer: 1, files: [{ path: 'a', kind: 'file', size: 0, mtime: null, bs: 1 }], last: true },
    ],
    ['offer: an entry that is a list', { t: 'offer', xfer: 1, files: [['a', 'file']], last: true }],
    ['reply: an unknown action', { t: 'reply', xfer: 1, d: [{ i: 0, a: 'maybe' }], last: true }],
    ['reply: a missing action', { t: 'reply', xfer: 1, d: [{ i: 0 }], last: true }],
    ['reply: a negative index', { t: 'reply', xfer: 1, d: [{ i: -1, a: 'send' }], last: true }],
    ['reply: a numeric bitmap', { t: 'reply', xfer: 1, d: [{ i: 0, a: 'resume', have: 7 }], last: true }],
    ['reply: a negative code', { t: 'reply', xfer: 1, d: [{ i: 0, a: 'refuse', code: -9 }], last: true }],
    ['reply: a numeric reason', { t: 'reply', xfer: 1, d: [{ i: 0, a: 'skip', reason: 14 }], last: true }],
    ['reply: a decision that is null', { t: 'reply', xfer: 1, d: [null], last: true }],
    ['ack: a negative number', { t: 'ack', xfer: 1, b: [0, -1] }],
    ['ack: a fraction', { t: 'ack', xfer: 1, b: [0, 1.5] }],
    ['ack: a string', { t: 'ack', xfer: 1, b: ['0', '1'] }],
    ['ack: a number over 2^53', { t: 'ack', xfer: 1, b: [0, 2 ** 53] }],
    ['end: a root over 64 characters', { t: 'end', xfer: 1, f: 0, root: 'a'.repeat(65) }],
    ['landed: an entry without f', { t: 'landed', xfer: 1, files: [{ path: 'a' }] }],
    ['landed: a numeric path', { t: 'landed', xfer: 1, files: [{ f: 0, path: 1 }] }],
    ['landed: a string code', { t: 'landed', xfer: 1, files: [{ f: 0, code: '18' }] }],
    ['landed: a numeric message', { t: 'landed', xfer: 1, files: [{ f: 0, code: 18, message: 18 }] }],
    ['landed: an entry that is a number', { t: 'landed', xfer: 1, files: [3] }],
  ];

  it.each(BAD)('refuses %s', (_label, m) => {
    expect(check(copy(m as object))).toBe('FERRY_ERR_PROTOCOL');
  });
});

describe('validateMessage: property tests', () => {
  const known = fc.constantFrom(...TYPES);
  const anyType = fc.oneof(known, fc.string({ maxLength: 20 }));
  const fieldNames = fc.oneof(
    fc.constantFrom(
      'name',
      'device',
      'caps',
      'session',
      'key',
      'join',
      'code',
      'message',
      'id',
      'req',
      'path',
      'entries',
      'total',
      'xfer',
      'paths',
      'files',
      'to',
      'conflict',
      'last',
      'd',
      'b',
      'f',
      'root',
      'kind',
      'size',
      'mtime',
      'bs',
      'i',
      'a',
      'have',
      'reason',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ),
    fc.string({ maxLength: 10 }),
  );
  const value = fc.jsonValue({ maxDepth: 3 });

  it('never throws anything but FERRY_ERR_PROTOCOL on random JSON objects', () => {
    fc.assert(
      fc.property(anyType, fc.dictionary(fieldNames, value, { maxKeys: 10 }), (t, rest) => {
        const code = viaWire({ ...rest, t });
        expect(['OK', 'FERRY_ERR_PROTOCOL']).toContain(code);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but FERRY_ERR_PROTOCOL when one field of a valid message is replaced at random', () => {
    fc.assert(
      fc.property(known, fieldNames, value, (t, k, v) => {
        const m = copy(EXAMPLE_MESSAGES[t]);
        if (k === 't') return;
        m[k] = v;
        const code = viaWire(m);
        expect(['OK', 'FERRY_ERR_PROTOCOL']).toContain(code);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but FERRY_ERR_PROTOCOL when an element inside a list is replaced at random', () => {
    const withLists = TYPES.filter((t) =>
      Object.values(EXAMPLE_MESSAGES[t]).some((v) => Array.isArray(v) && v.length > 0),
    );
    fc.assert(
      fc.property(fc.constantFrom(...withLists), value, fieldNames, value, (t, element, k, v) => {
        const m = copy(EXAMPLE_MESSAGES[t]);
        const listKey = Object.keys(m).find((key) => Array.isArray(m[key]) && (m[key] as unknown[]).length > 0)!;
        const list = m[listKey] as unknown[];
        // Either replace the first element outright, or one field of it.
        if (typeof list[0] === 'object' && list[0] !== null && k.length % 2 === 0)
          (list[0] as Record<string, unknown>)[k] = v;
        else list[0] = element;
        const code = viaWire(m);
        expect(['OK', 'FERRY_ERR_PROTOCOL']).toContain(code);
      }),
      { numRuns: 2000 },
    );
  });
});
