/**
 * The container images keelson provides, all built on this machine from the distribution's
 * statically linked busybox (Debian's busybox-static, /bin/busybox). Nothing is downloaded:
 * the pause image is imported into containerd directly, and busybox/kubia are served by a local
 * registry that containerd uses as the docker.io mirror, so manifests saying `image: busybox` or
 * `image: luksa/kubia` run unchanged.
 *
 * All three share one base layer (busybox + applet links + /etc/passwd...), so containerd stores
 * and unpacks it once.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, withParentDirectories, writeOciArchive, type BuiltImage, type LayerEntry } from './oci-image.js';

export type CatalogImageName = 'pause' | 'busybox' | 'kubia';

export interface CatalogEntry {
  name: CatalogImageName;
  /** The fully qualified reference the image is known by in containerd. */
  ref: string;
  /** For images served by the local registry: repository and tags pushed there. */
  registry?: { repository: string; tags: string[] };
}

/** The pod sandbox ("pause") image; imported into containerd, never pulled. */
export const PAUSE_IMAGE = 'keelson.local/pause:3.10';
export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';
export const KUBIA_IMAGE = 'docker.io/luksa/kubia:latest';

export const CATALOG: readonly CatalogEntry[] = [
  { name: 'pause', ref: PAUSE_IMAGE },
  // Extra busybox tags are the ones Kubernetes' docs and common examples name; they all hold
  // the distribution's busybox (whatever its version), which serves those examples.
  { name: 'busybox', ref: BUSYBOX_IMAGE, registry: { repository: 'library/busybox', tags: ['latest', '1.28', '1.36', 'stable'] } },
  { name: 'kubia', ref: KUBIA_IMAGE, registry: { repository: 'luksa/kubia', tags: ['latest'] } },
];

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

/** True if the ELF file has no PT_INTERP program header, i.e. needs no dynamic loader. */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 52) return false;
    if (head.readUInt32BE(0) !== 0x7f454c46) return false; // "\x7fELF"
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(32) : head.readBigUInt64BE(32)) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (u32(ph, i * phentsize) === PT_INTERP) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * The path of a statically linked busybox (KEELSON_BUSYBOX overrides the search), or an Error
 * saying how to install one. A dynamically linked busybox would not run in an image without libc.
 */
export function locateBusybox(): string {
  const explicit = process.env.KEELSON_BUSYBOX;
  const candidates = explicit ? [explicit] : BUSYBOX_CANDIDATES;
  const dynamic: string[] = [];
  for (const p of candidates) {
    if (!existsSync(p)) continue;
    if (isStaticElf(p)) return p;
    dynamic.push(p);
  }
  const found = dynamic.length ? ` (${dynamic.join(', ')} is dynamically linked)` : '';
  throw new Error(`a statically linked busybox is needed to build keelson's images${found}: run \`apt-get install -y busybox-static\``);
}

/** Applet install paths from `busybox --list-full` (e.g. 'usr/bin/wget'), only under bin/, sbin/, usr/. */
function appletPaths(busybox: string): string[] {
  const out = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' });
  return out.split('\n').map((s) => s.trim()).filter((p) => /^(bin|sbin|usr)\/[^/]/.test(p) && !p.includes('..'));
}

/**
 * Debian's static busybox 1.35 crashes (SIGSEGV) in `wget -T <seconds>`, which the seeds use
 * (`wget http://fortune -q -T 1 -O /dev/null`). Every `wget` in the images is this wrapper: it
 * takes -T/--timeout out and enforces the limit with busybox's own `timeout` applet instead.
 */
const WGET_WRAPPER = `#!/bin/busybox sh
t=
want=
for a do
  shift
  if [ -n "$want" ]; then t=$a; want=; continue; fi
  case "$a" in
    -T) want=1; continue ;;
    -T[0-9]*) t=\${a#-T}; continue ;;
    --timeout=*) t=\${a#--timeout=}; continue ;;
  esac
  set -- "$@" "$a"
done
if [ -n "$t" ]; then exec /bin/busybox timeout "$t" /bin/busybox wget "$@"; fi
exec /bin/busybox wget "$@"
`;

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/**
 * The shared base layer: /bin/busybox, a symlink for every applet at the path busybox lists and
 * also in /bin (as the Docker Hub busybox image has them all in /bin, so `/bin/sleep` works),
 * passwd/group, and the usual empty directories.
 */
function baseLayer(busybox: string): LayerEntry[] {
  const entries: LayerEntry[] = [];
  const dir = (path: string, mode = 0o755) => entries.push({ type: 'dir', path, mode });
  for (const d of ['bin', 'dev', 'etc', 'home', 'proc', 'sbin', 'sys', 'usr', 'usr/bin', 'usr/sbin', 'var', 'var/spool', 'var/www']) dir(d);
  dir('root', 0o700);
  dir('tmp', 0o1777);
  dir('var/tmp', 0o1777);
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, data: readFileSync(busybox) });
  const links = new Set<string>();
  for (const p of appletPaths(busybox)) {
    links.add(p);
    links.add(`bin/${p.slice(p.lastIndexOf('/') + 1)}`);
  }
  links.delete('bin/busybox');
  for (const p of [...links].sort()) {
    if (p.endsWith('/wget')) entries.push({ type: 'file', path: p, mode: 0o755, data: WGET_WRAPPER });
    else entries.push({ type: 'symlink', path: p, target: '/bin/busybox' });
  }
  entries.push({ type: 'file', path: 'etc/passwd', data: PASSWD });
  entries.push({ type: 'file', path: 'etc/group', data: GROUP });
  // glibc's built-in files+dns resolution; /etc/hosts and resolv.conf come from the runtime.
  entries.push({ type: 'file', path: 'etc/nsswitch.conf', data: 'hosts: files dns\n' });
  return entries;
}

/**
 * The sandbox entrypoint. It is PID 1 of the pod (and of a shared PID namespace), so: wait forever
 * without busy-looping, exit 0 at once on SIGTERM/SIGINT (PID 1 gets no default signal actions,
 * hence the explicit trap), and reap orphans — ash's `wait` collects any exited child, including
 * processes re-parented to it.
 */
export const PAUSE_SCRIPT = 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done';

/**
 * kubia's server (after Marko Lukša's Node app from "Kubernetes in Action"): busybox `nc -ll`
 * accepts connections forever and forks a handler per connection, so requests are served
 * concurrently. Unlike the original (Node as PID 1 ignores SIGTERM, so pods take the whole grace
 * period to stop) it exits 0 on SIGTERM.
 */
const KUBIA_SERVER = `#!/bin/sh
# kubia: answers every HTTP request on :8080 with "You've hit <hostname>".
echo "Kubia server starting..."
# Handlers write their log lines to fd 3, the container's stdout (their stdout is the socket).
exec 3>&1
trap 'kill "$pid" 2>/dev/null; exit 0' TERM INT
nc -ll -p 8080 -e /kubia/handle-request.sh &
pid=$!
wait "$pid"
exit $?
`;

const KUBIA_HANDLER = `#!/bin/sh
# One HTTP/1.x connection on stdin/stdout: read the request, answer 200 for every path, close.
CR=$(printf '\\r')
IFS= read -r -t 10 request || exit 0
request=\${request%"$CR"}
set -- $request
method=\${1:-GET}
path=\${2:-/}
length=0
while IFS= read -r -t 10 line; do
  line=\${line%"$CR"}
  [ -z "$line" ] && break
  case "$line" in
    [Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]:*)
      set -- \${line#*:}
      length=\${1:-0}
      case "$length" in ''|*[!0-9]*) length=0 ;; esac ;;
  esac
done
# Consume a request body so closing the socket does not reset the connection under the client.
[ "$length" -gt 0 ] && head -c "$length" >/dev/null
echo "Received request: $method $path" >&3
body="You've hit $(hostname)
"
printf 'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' "\${#body}"
[ "$method" = HEAD ] || printf '%s' "$body"
`;

/**
 * The busybox image's /bin/sh is Debian's dash (with the C library it links), not busybox's
 * ash: Debian's busybox 1.35 is built without FEATURE_WGET_TIMEOUT, so `wget -T` writes through a
 * NULL pointer while parsing options and crashes, and ash runs `wget` as a built-in applet
 * inside `sh -c`, past any wrapper. dash finds `wget` on the PATH, which is keelson's wrapper,
 * so manifests such as the seeds' (`sh -c '… wget http://fortune -q -T 1 …'`) run as written.
 * Without dash on the machine the layer is left out and sh stays ash.
 */
function dashLayer(): LayerEntry[] {
  const dash = ['/bin/dash', '/usr/bin/dash'].find((p) => { try { return statSync(p).isFile(); } catch { return false; } });
  if (!dash) return [];
  let ldd = '';
  try { ldd = execFileSync('ldd', [dash], { encoding: 'utf8' }); } catch { return []; }
  const entries: LayerEntry[] = [{ type: 'file', path: 'bin/sh', mode: 0o755, data: readFileSync(dash) }];
  for (const line of ldd.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x/);
    if (!m) continue;
    entries.push({ type: 'file', path: m[1].slice(1), mode: 0o755, data: readFileSync(m[1]) });
  }
  return withParentDirectories(entries);
}

function kubiaLayer(): LayerEntry[] {
  return [
    { type: 'dir', path: 'kubia' },
    { type: 'file', path: 'kubia/server.sh', mode: 0o755, data: KUBIA_SERVER },
    { type: 'file', path: 'kubia/handle-request.sh', mode: 0o755, data: KUBIA_HANDLER },
  ];
}

const cache = new Map<string, BuiltImage>();

/**
 * Builds one catalog image (memoized per process, keyed by the busybox binary's identity).
 * Pass `{ cache: false }` to force a fresh build.
 */
export function buildCatalogImage(name: CatalogImageName, opts: { cache?: boolean } = {}): BuiltImage {
  const busybox = locateBusybox();
  const st = statSync(busybox);
  const key = `${name}\0${busybox}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  if (opts.cache !== false) {
    const hit = cache.get(key);
    if (hit) return hit;
  }
  const base = baseLayer(busybox);
  const baseHistory = `busybox-static ${busybox} with applet links`;
  let image: BuiltImage;
  switch (name) {
    case 'pause':
      image = buildImage({
        layers: [base],
        history: [baseHistory],
        config: { Entrypoint: ['/bin/sh', '-c', PAUSE_SCRIPT], Env: [DEFAULT_PATH], WorkingDir: '/' },
      });
      break;
    case 'busybox': {
      const dash = dashLayer();
      image = buildImage({
        layers: dash.length ? [base, dash] : [base],
        history: dash.length ? [baseHistory, 'dash as /bin/sh (see dashLayer)'] : [baseHistory],
        config: { Env: [DEFAULT_PATH], Cmd: ['sh'] },
      });
      break;
    }
    case 'kubia':
      image = buildImage({
        layers: [base, kubiaLayer()],
        history: [baseHistory, 'kubia HTTP server (busybox nc)'],
        config: { Entrypoint: ['/bin/sh', '/kubia/server.sh'], Env: [DEFAULT_PATH], ExposedPorts: { '8080/tcp': {} }, WorkingDir: '/' },
      });
      break;
    default:
      throw new Error(`unknown catalog image ${JSON.stringify(name)}; known: ${CATALOG.map((c) => c.name).join(', ')}`);
  }
  cache.set(key, image);
  return image;
}

export function catalogEntry(name: CatalogImageName): CatalogEntry {
  const e = CATALOG.find((c) => c.name === name);
  if (!e) throw new Error(`unknown catalog image ${JSON.stringify(name)}; known: ${CATALOG.map((c) => c.name).join(', ')}`);
  return e;
}

/**
 * Writes the image's OCI archive (named with its full ref, for `ctr -n k8s.io images import`)
 * into `dir` and returns its path. The file name carries the manifest digest, so an archive that
 * is already there is the same content and is reused.
 */
export async function buildImageArchive(name: CatalogImageName, dir: string): Promise<string> {
  const entry = catalogEntry(name);
  const image = buildCatalogImage(name);
  const path = join(dir, `${name}-${image.digest.slice('sha256:'.length, 'sha256:'.length + 16)}.oci.tar`);
  if (!existsSync(path)) await writeOciArchive(image, entry.ref, path);
  return path;
}
