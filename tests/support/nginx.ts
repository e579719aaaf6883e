import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from './wait.js'

/**
 * How the nginx in front of the server is set up (every one with the usual proxy headers):
 * - `websocket`: passes WebSocket upgrades (`Upgrade`/`Connection` forwarded) — the recommended setup;
 * - `no-upgrade`: a plain `proxy_pass`: nginx drops the hop-by-hop `Upgrade` header, so WebSocket
 *   never reaches the server; SSE and long-polling do (the stream is unbuffered per response
 *   thanks to `X-Accel-Buffering: no`);
 * - `buffering`: no upgrades either, and responses held back until they end: `X-Accel-Buffering`
 *   ignored and gzip on for event streams. (`proxy_buffering on` alone does not hold a stream
 *   back: nginx forwards what it has read; gzip keeps everything, headers included, until its
 *   buffer fills or the response ends.)
 */
export type NginxSetup = 'websocket' | 'no-upgrade' | 'buffering'

const LOCATION: Record<NginxSetup, string> = {
  websocket: `
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;`,
  'no-upgrade': '',
  buffering: `
      proxy_buffering on;
      proxy_ignore_headers X-Accel-Buffering;
      gzip on;
      gzip_proxied any;
      gzip_min_length 0;
      gzip_types text/event-stream application/json;`,
}

/** The configuration nginx runs with, for `setup` in front of `upstreamPort` (docs quote it). */
export function nginxConfig(setup: NginxSetup, listenPort: number, upstreamPort: number, dir: string): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;${LOCATION[setup]}
    }
  }
}
`
}

function nginxBinary(): string {
  return process.env.NGINX_PATH ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx')
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => resolve(true)).once('error', () => resolve(false))
    socket.once('close', () => socket.destroy())
    socket.on('connect', () => socket.end())
  })

/**
 * A real nginx (the Debian package; `scripts/ensure-test-env.sh` installs it) in front of a
 * server, on a free loopback port, with its own configuration and files in a temp dir. Fails,
 * never skips, when nginx is missing.
 */
export class Nginx {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly exited: Promise<void>,
  ) {}

  static async start(setup: NginxSetup, upstreamPort: number): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-nginx-'))
    const port = await freePort()
    const conf = join(dir, 'nginx.conf')
    writeFileSync(conf, nginxConfig(setup, port, upstreamPort, dir))
    const child = spawn(nginxBinary(), ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`nginx did not start (${nginxBinary()}): ${err.message}`)))
      void exited.then(() => {
        const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''
        reject(new Error(`nginx exited: ${stderr}${log}`))
      })
    })
    const nginx = new Nginx(`http://127.0.0.1:${port}`, child, dir, exited)
    try {
      await Promise.race([waitFor(() => accepts(port), 'nginx to listen', 10_000), failed])
    } catch (err) {
      await nginx.stop()
      throw err
    }
    failed.catch(() => {}) // from now on an exit is the test's own doing
    return nginx
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    await this.exited
    rmSync(this.dir, { recursive: true, force: true })
  }
}
