// The simulated hosts of the controller-alone bench: one process, one ssh2 server, N listening ports on loopback.
// Every connection gets a real SSH handshake (the host key below, checked by orch against a known_hosts file) and
// real exec channels; each exec's stdin is read to its end and answered from a recording (./recording.ts).
// With --record, each exec is instead forwarded to a real host and what it answered is written as the recording.
// Runs as its own process so its CPU is not counted as the controller's. Prints `ready <first port>` when all
// ports listen. Usage (bench/controller-sim.ts starts it):
//   node --import tsx bench/sim/ssh-sim.ts --hosts N --base-port P --host-key FILE --recording FILE
//        [--record --upstream host:port --upstream-key FILE --upstream-user root]
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import {
  NONCE_PLACEHOLDER,
  answerFor,
  execKind,
  nonceOf,
  swapNonce,
  type RecordedExec,
  type Recording,
} from './recording.js';

const { Server, Client } = ssh2;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const hosts = Number(arg('--hosts') ?? 1);
const basePort = Number(arg('--base-port') ?? 22000);
const hostKey = readFileSync(arg('--host-key')!);
const recordingFile = arg('--recording')!;
const recordMode = process.argv.includes('--record');
const recording: Recording | undefined = recordMode
  ? undefined
  : (JSON.parse(readFileSync(recordingFile, 'utf8')) as Recording);
const recorded: RecordedExec[] = [];

/** Run one exec on the real host (record mode): its stdout, stderr and exit code. */
function upstreamExec(
  command: string,
  stdin: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const [host, port] = arg('--upstream')!.split(':');
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => {
      c.exec(command, (err, ch) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        ch.on('data', (d: Buffer) => (stdout += d.toString()));
        ch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        ch.on('close', (code: number | null) => {
          c.end();
          resolve({ stdout, stderr, code: code ?? 255 });
        });
        ch.end(stdin);
      });
    });
    c.on('error', reject);
    c.connect({
      host,
      port: Number(port ?? 22),
      username: arg('--upstream-user') ?? 'root',
      privateKey: readFileSync(arg('--upstream-key')!),
    });
  });
}

async function answer(
  command: string,
  stdin: string,
  seen: Map<string, number>,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const kind = execKind(stdin);
  const nth = seen.get(kind) ?? 0;
  seen.set(kind, nth + 1);
  const nonce = nonceOf(stdin);
  if (recordMode) {
    const out = await upstreamExec(command, stdin);
    recorded.push({
      kind,
      command,
      stdout: swapNonce(out.stdout, nonce, NONCE_PLACEHOLDER),
      stderr: swapNonce(out.stderr, nonce, NONCE_PLACEHOLDER),
      code: out.code,
    });
    writeFileSync(
      recordingFile,
      `${JSON.stringify({ ...JSON.parse(readFileSync(recordingFile, 'utf8')), execs: recorded }, null, 2)}\n`,
    );
    return out;
  }
  const rec = answerFor(recording!, kind, nth);
  if (!rec) return { stdout: '', stderr: `ssh-sim: no recorded answer for ${kind}\n`, code: 127 };
  return {
    stdout: swapNonce(rec.stdout, NONCE_PLACEHOLDER, nonce),
    stderr: swapNonce(rec.stderr, NONCE_PLACEHOLDER, nonce),
    code: rec.code,
  };
}

const server = new Server({ hostKeys: [hostKey] }, (client) => {
  client.on('error', () => undefined);
  // Loopback only, a bench: any public key is let in (orch still proves it holds its key).
  client.on('authentication', (ctx) =>
    ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey']),
  );
  client.on('ready', () => {
    const seen = new Map<string, number>();
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('exec', (acceptExec, _reject, info) => {
        const ch = acceptExec();
        const chunks: Buffer[] = [];
        ch.on('data', (d: Buffer) => chunks.push(d));
        ch.on('error', () => undefined);
        ch.once('end', () => {
          answer(info.command, Buffer.concat(chunks).toString('utf8'), seen).then(
            (out) => {
              if (out.stdout) ch.write(out.stdout);
              if (out.stderr) ch.stderr.write(out.stderr);
              ch.exit(out.code);
              ch.end();
            },
            (err: unknown) => {
              ch.stderr.write(`ssh-sim: ${String(err)}\n`);
              ch.exit(255);
              ch.end();
            },
          );
        });
      });
    });
  });
});

let listening = 0;
for (let i = 0; i < hosts; i++) {
  const l = net.createServer((sock) => server.injectSocket(sock));
  l.on('error', (err) => {
    process.stderr.write(`ssh-sim: port ${basePort + i}: ${err.message}\n`);
    process.exit(1);
  });
  l.listen(basePort + i, '127.0.0.1', () => {
    if (++listening === hosts) process.stdout.write(`ready ${basePort}\n`);
  });
}
process.on('SIGTERM', () => process.exit(0));
