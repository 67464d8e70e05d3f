/**
 * docs/protocol.md is kept true by this test: its constants table must list every export of
 * protocol/constants.ts with its value, its error code table every entry of WIRE_CODES, its JSON
 * examples must be valid messages covering every type, and what it says a server answers to a
 * stranger must be what a real server answers.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_CODES } from '../../shared/errors.js';
import * as constants from '../../electron/core/protocol/constants.js';
import { decodeControl, encodeControl, encodePreamble } from '../../electron/core/protocol/codec.js';
import { validateMessage } from '../../electron/core/protocol/messages.js';
import { FerryServer } from '../../electron/core/server.js';
import { decodeChunks, EXAMPLE_MESSAGES } from '../helpers/frames.js';

const DOC_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/protocol.md');
const doc = fs.readFileSync(DOC_PATH, 'utf8');

function cells(line: string): string[] {
  const t = line.trim();
  if (!t.startsWith('|') || !t.endsWith('|')) return [];
  return t
    .slice(1, -1)
    .split('|')
    .map((c) => c.trim());
}

/**
 * The rows of the one markdown table whose header starts with the given two columns, as
 * [name, value] with backticks stripped. Values must be plain decimal integers.
 */
function parseTable(text: string, first: string, second: string): [string, number][] {
  const lines = text.split('\n');
  const starts = lines.flatMap((l, k) => {
    const c = cells(l);
    return c[0] === first && c[1] === second ? [k] : [];
  });
  if (starts.length !== 1)
    throw new Error(`expected one table headed "| ${first} | ${second} |", found ${starts.length}`);
  const start = starts[0]!;
  if (!/^\|\s*:?-+:?\s*\|/.test(lines[start + 1]!.trim())) throw new Error(`table "${first}" has no separator row`);
  const rows: [string, number][] = [];
  for (let k = start + 2; k < lines.length && lines[k]!.trim().startsWith('|'); k++) {
    const [name, value] = cells(lines[k]!);
    const n = (name ?? '').replace(/`/g, '');
    if (!/^\d+$/.test(value ?? ''))
      throw new Error(`table "${first}", row ${n}: value ${JSON.stringify(value)} is not a plain decimal integer`);
    rows.push([n, Number(value)]);
  }
  return rows;
}

function asMap(rows: [string, number][]): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of rows) {
    if (m.has(k)) throw new Error(`${k} is listed twice`);
    m.set(k, v);
  }
  return m;
}

describe('docs/protocol.md tables', () => {
  it('the constants table lists every export of constants.ts with its value, and nothing else', () => {
    const documented = asMap(parseTable(doc, 'constant', 'value'));
    const exported = new Map(Object.entries(constants).map(([k, v]) => [k, v as unknown]));
    expect([...documented.keys()].sort()).toEqual([...exported.keys()].sort());
    for (const [name, value] of exported) {
      expect(typeof value, `${name} is a number`).toBe('number');
      expect(documented.get(name), name).toBe(value);
    }
  });

  it('the error code table lists every WIRE_CODES entry with its number, and nothing else', () => {
    const documented = asMap(parseTable(doc, 'code', 'wire'));
    expect([...documented.keys()].sort()).toEqual(Object.keys(WIRE_CODES).sort());
    for (const [code, wire] of Object.entries(WIRE_CODES)) expect(documented.get(code), code).toBe(wire);
  });

  it('the table parser refuses what it should (so the checks above can fail)', () => {
    expect(() =>
      parseTable('| constant | value |\n| --- | --- |\n| MAGIC | 0x46525259 |\n', 'constant', 'value'),
    ).toThrow();
    expect(() =>
      parseTable('| constant | value |\n| --- | --- |\n| MAGIC | 1,179,800,153 |\n', 'constant', 'value'),
    ).toThrow();
    expect(() => parseTable('no table here', 'constant', 'value')).toThrow();
    expect(() =>
      asMap([
        ['A', 1],
        ['A', 1],
      ]),
    ).toThrow();
    const rows = parseTable(
      '| constant | value | hex |\n| -------- | ----: | --- |\n| `A` | 7 | 0x7 |\n| B | 8 | 0x8 |\n\nafter',
      'constant',
      'value',
    );
    expect(rows).toEqual([
      ['A', 7],
      ['B', 8],
    ]);
  });
});

describe('docs/protocol.md message examples', () => {
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

  it('every json example is a valid control message', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(Object.keys(EXAMPLE_MESSAGES).length);
    for (const text of blocks) {
      const m = validateMessage(decodeControl(Buffer.from(text, 'utf8')));
      // Re-encoding gives a frame the codec accepts: the example fits the wire as shown.
      expect(encodeControl(m).length, text.slice(0, 60)).toBeLessThanOrEqual(
        constants.MAX_CONTROL_SIZE + constants.FRAME_HEADER_SIZE,
      );
    }
  });

  it('the examples cover every message type, and only those', () => {
    const types = new Set(blocks.map((text) => (JSON.parse(text) as { t: string }).t));
    expect([...types].sort()).toEqual(Object.keys(EXAMPLE_MESSAGES).sort());
  });

  it('every message type has its own section', () => {
    for (const t of Object.keys(EXAMPLE_MESSAGES)) expect(doc, t).toMatch(new RegExp(`^### .*\`${t}\``, 'm'));
  });
});

describe('docs/protocol.md: what a real server answers a stranger', () => {
  let dir: string;
  let server: FerryServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-doc-'));
    server = await FerryServer.start({ root: dir, maxConnections: 2 });
  });

  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Connect, write `bytes`, and collect everything the server sends until it closes. */
  function exchange(bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const got: Buffer[] = [];
      const s = net.connect(server.address().port, '127.0.0.1', () => s.write(bytes));
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('the server did not close the connection'));
      }, 5000);
      s.on('data', (d: Buffer) => got.push(d));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(got));
      });
    });
  }

  /** The server's reply must be: its preamble (version 1), one error frame with `code`, then close. */
  function expectErrorReply(reply: Buffer, code: number): void {
    const out = decodeChunks([reply]);
    expect(out.versions).toEqual([constants.PROTOCOL_VERSION]);
    expect(out.pending).toBe(0);
    expect(out.frames.length).toBe(1);
    const f = out.frames[0]!;
    if (f.kind !== 'control') throw new Error('expected a control frame');
    const m = validateMessage(decodeControl(Buffer.from(f.body, 'hex')));
    expect(m.t).toBe('error');
    if (m.t === 'error') expect(m.code).toBe(code);
  }

  it('an HTTP request gets the preamble, error FERRY_ERR_BAD_MAGIC, and a closed connection', async () => {
    const reply = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    expectErrorReply(reply, WIRE_CODES.FERRY_ERR_BAD_MAGIC);
  });

  it('a version 2 preamble gets the preamble, error FERRY_ERR_VERSION, and a closed connection', async () => {
    const reply = await exchange(encodePreamble(2));
    expectErrorReply(reply, WIRE_CODES.FERRY_ERR_VERSION);
  });

  it('joining an unknown session gets error FERRY_ERR_PROTOCOL', async () => {
    const hello = encodeControl({
      t: 'hello',
      name: 'x',
      device: 'y',
      caps: [],
      join: { session: 'nope', key: 'nope' },
    });
    const reply = await exchange(Buffer.concat([encodePreamble(), hello]));
    expectErrorReply(reply, WIRE_CODES.FERRY_ERR_PROTOCOL);
  });

  it('a connection past maxConnections gets the preamble and error FERRY_ERR_TOO_MANY_CONNECTIONS', async () => {
    const held: net.Socket[] = [];
    try {
      for (let k = 0; k < 2; k++) {
        const s = net.connect(server.address().port, '127.0.0.1');
        await new Promise<void>((r) => s.once('data', () => r())); // its preamble: the server took it
        held.push(s);
      }
      const reply = await exchange(encodePreamble());
      expectErrorReply(reply, WIRE_CODES.FERRY_ERR_TOO_MANY_CONNECTIONS);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});
