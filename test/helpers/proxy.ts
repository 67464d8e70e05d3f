/**
 * A real TCP proxy between a client and a server, for fault tests: it can corrupt bytes in
 * flight, cut a connection after a given number of bytes (mid-block), and counts what crossed.
 */
import * as net from 'node:net';

export interface ProxyHooks {
  /** Transform client->server bytes of connection `index` starting at stream `offset`; 'cut' kills it. */
  upstream?: (chunk: Buffer, offset: number, index: number) => Buffer | 'cut';
}

export interface Proxy {
  port: number;
  address: string;
  /** Bytes forwarded client->server, over all connections. */
  bytesUp: () => number;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, hooks: ProxyHooks = {}): Promise<Proxy> {
  let up = 0;
  let index = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const i = index++;
    let offset = 0;
    const target = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(target);
    const kill = (): void => {
      client.destroy();
      target.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const out = hooks.upstream ? hooks.upstream(chunk, offset, i) : chunk;
      offset += chunk.length;
      if (out === 'cut') return kill();
      up += out.length;
      if (!target.write(out)) client.pause();
    });
    target.on('drain', () => client.resume());
    target.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) target.pause();
    });
    client.on('drain', () => target.resume());
    client.on('close', kill);
    target.on('close', kill);
    client.on('error', kill);
    target.on('error', kill);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    bytesUp: () => up,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
