/**
 * A small program the discovery tests run inside a network namespace
 * (`ip netns exec NS node dist/test/helpers/discovery-child.js ...`). It speaks JSON lines:
 * one event per line on stdout, one command per line on stdin.
 *
 * Discovery mode (default): runs a real Discovery.
 *   --port P --name N --device D [--discovery-port U] [--every MS] [--expire MS] [--interface I] [--listen-only]
 *   out: {"event":"ready"} {"event":"peer","peer":{...}} {"event":"gone","peer":{...}} {"event":"warning","message":...}
 *   in:  "stats" -> {"event":"stats","stats":{...},"peers":[...]}; "stop" -> {"event":"stopped"}, then exit.
 *
 * Raw mode (--raw): a bare UDP socket for forged datagrams, bound to an ephemeral port.
 *   [--discovery-port U] [--group G] [--interface ADDR]
 *   out: {"event":"ready","port":N} {"event":"sent","n":N} {"event":"datagram","from":IP,"port":N,"b64":...}
 *   in:  {"b64":"...","to"?:IP,"port"?:N} sends the bytes (to the group and port by default).
 *
 * stdin closing (the test runner went away) stops and exits either way.
 */
import * as dgram from 'node:dgram';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { DISCOVERY_GROUP, DISCOVERY_PORT, Discovery } from '../../electron/core/discovery.js';

const { values } = parseArgs({
  options: {
    raw: { type: 'boolean', default: false },
    port: { type: 'string' },
    name: { type: 'string' },
    device: { type: 'string' },
    'discovery-port': { type: 'string' },
    group: { type: 'string' },
    every: { type: 'string' },
    expire: { type: 'string' },
    interface: { type: 'string' },
    'listen-only': { type: 'boolean', default: false },
  },
  strict: true,
});

function out(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function num(v: string | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

const discoveryPort = num(values['discovery-port']) ?? DISCOVERY_PORT;
const group = values.group ?? DISCOVERY_GROUP;
const lines = readline.createInterface({ input: process.stdin });

if (values.raw) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) =>
    out({ event: 'datagram', from: rinfo.address, port: rinfo.port, b64: msg.toString('base64') }),
  );
  socket.bind(0, () => {
    socket.setMulticastTTL(1);
    if (values.interface) socket.setMulticastInterface(values.interface);
    out({ event: 'ready', port: socket.address().port });
  });
  let n = 0;
  // One send at a time, in order: the tests count what arrives.
  let chain = Promise.resolve();
  lines.on('line', (line) => {
    const cmd = JSON.parse(line) as { b64: string; to?: string; port?: number };
    chain = chain.then(
      () =>
        new Promise<void>((resolve) =>
          socket.send(Buffer.from(cmd.b64, 'base64'), cmd.port ?? discoveryPort, cmd.to ?? group, (err) => {
            out(err ? { event: 'error', message: err.message } : { event: 'sent', n: ++n });
            resolve();
          }),
        ),
    );
  });
  lines.on('close', () => socket.close(() => process.exit(0)));
} else {
  const d = new Discovery({
    port: Number(values.port),
    name: values.name ?? 'child',
    deviceId: values.device ?? `CHILD-${process.pid}`,
    protocolVersion: 1,
    discoveryPort,
    group,
    announceEveryMs: num(values.every),
    expireAfterMs: num(values.expire),
    interface: values.interface,
    announce: !values['listen-only'],
  });
  d.on('peer', (peer) => out({ event: 'peer', peer }));
  d.on('gone', (peer) => out({ event: 'gone', peer }));
  d.on('warning', (message) => out({ event: 'warning', message }));
  const stop = async (): Promise<never> => {
    await d.stop();
    out({ event: 'stopped' });
    process.exit(0);
  };
  lines.on('line', (line) => {
    if (line === 'stats') out({ event: 'stats', stats: d.stats, peers: d.peers() });
    else if (line === 'stop') void stop();
  });
  lines.on('close', () => void stop());
  d.start().then(
    () => out({ event: 'ready' }),
    (err: unknown) => {
      out({ event: 'error', message: String(err) });
      process.exit(1);
    },
  );
}
