// The SFTP channel of one SSH connection seen as a FileChannel. It is a channel on the connection that already
// runs the host's scripts (no second connection); node-ssh's putFile/getFile drive ssh2's parallel fastPut/fastGet
// over it. SFTP runs as the login user: become is the business of the scripts that place what was sent.
import { NodeSSH } from 'node-ssh';
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import type { FileChannel } from './types.js';

/** Open the SFTP subsystem on `client` (one more channel of the same connection). */
export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp)));
  });
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function kindOf(st: Stats): 'file' | 'dir' | 'other' {
  const t = st.mode & S_IFMT;
  return t === S_IFREG ? 'file' : t === S_IFDIR ? 'dir' : 'other';
}

/** SSH_FX_NO_SUCH_FILE: the path does not exist. */
const NO_SUCH_FILE = 2;

function call<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

export class SftpFiles implements FileChannel {
  private readonly ssh = new NodeSSH();

  constructor(
    client: Client,
    private readonly sftp: SFTPWrapper,
  ) {
    // node-ssh over the connection orch opened and verified (host key, auth): it never connects by itself here.
    this.ssh.connection = client;
  }

  mkdir(path: string, mode: number): Promise<void> {
    return call<void>((cb) => this.sftp.mkdir(path, { mode }, (err) => cb(err, undefined)));
  }

  lstat(path: string): ReturnType<FileChannel['lstat']> {
    return this.statWith('lstat', path).then((st) =>
      st ? { kind: kindOf(st), uid: st.uid, mode: st.mode & 0o7777 } : undefined,
    );
  }

  stat(path: string): ReturnType<FileChannel['stat']> {
    return this.statWith('stat', path).then((st) => (st ? { kind: kindOf(st), size: st.size } : undefined));
  }

  async put(from: { localFile: string } | { data: Uint8Array }, remote: string, mode: number): Promise<void> {
    if ('localFile' in from) {
      await this.ssh.putFile(from.localFile, remote, this.sftp, { mode });
      return;
    }
    const data = Buffer.from(from.data);
    await call<void>((cb) =>
      this.sftp.writeFile(remote, data, { mode, flag: 'wx' }, (err) => cb(err, undefined)),
    );
  }

  get(remote: string, localFile: string): Promise<void> {
    return this.ssh.getFile(localFile, remote, this.sftp);
  }

  unlink(path: string): Promise<void> {
    return call<void>((cb) => this.sftp.unlink(path, (err) => cb(err, undefined)));
  }

  rmdir(path: string): Promise<void> {
    return call<void>((cb) => this.sftp.rmdir(path, (err) => cb(err, undefined)));
  }

  end(): void {
    this.sftp.end();
  }

  private statWith(how: 'lstat' | 'stat', path: string): Promise<Stats | undefined> {
    return new Promise((resolve, reject) => {
      this.sftp[how](path, (err, st) => {
        if (!err) resolve(st);
        else if ((err as Error & { code?: number }).code === NO_SUCH_FILE) resolve(undefined);
        else reject(err);
      });
    });
  }
}
