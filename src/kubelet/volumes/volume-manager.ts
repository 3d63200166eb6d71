/**
 * The kubelet's volume plugins for the volumes a node can serve by itself, laid out on disk as
 * the kubelet lays them out:
 *
 *   <rootDir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>     emptyDir (tmpfs when medium: Memory)
 *   <rootDir>/pods/<uid>/volumes/kubernetes.io~configmap/<name>     configMap   (disk)
 *   <rootDir>/pods/<uid>/volumes/kubernetes.io~secret/<name>        secret      (tmpfs)
 *   <rootDir>/pods/<uid>/volumes/kubernetes.io~downward-api/<name>  downwardAPI (disk)
 *   <rootDir>/pods/<uid>/volumes/kubernetes.io~projected/<name>     projected   (tmpfs)
 *   hostPath volumes are the host path itself, after the type check.
 *
 * configMap, secret, downwardAPI and projected volumes are published through the AtomicWriter;
 * `refresh(pod)` rewrites them, which is how a mounted configMap changes inside a running pod
 * (environment variables do not). Secret and projected volumes sit on a tmpfs, as upstream
 * wraps them in a memory-backed emptyDir, so secret bytes never reach the node's disk.
 *
 * Errors are the kubelet's texts (`configmap "x" not found`, `hostPath type check failed: ...`),
 * collected per volume in a VolumeSetUpError whose message reads like the FailedMount event
 * (`MountVolume.SetUp failed for volume "v" : ...`). Calls for one pod are serialized.
 *
 * Written from the documented behaviour of the kubelet's volume plugins; no code copied.
 */
import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type {
  ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume, VolumeProjection,
} from 'kubernetes-types/core/v1.js';
import { logger, type Logger } from '../../util/log.js';
import { parseQuantityExact, quantityIntValue } from '../../apimachinery/quantity.js';
import { AtomicWriter, type Payload } from './atomic-writer.js';
import { extractFieldPath, extractResourceValue, findContainer, withDefaultLimits, type NodeAllocatable } from '../env.js';

const run = promisify(execFile);

/** Where the kubelet reads configMaps and secrets from (an informer cache or the API). null = not found. */
export interface ObjectSource {
  getConfigMap(ns: string, name: string): Promise<ConfigMap | null>;
  getSecret(ns: string, name: string): Promise<Secret | null>;
}

export interface VolumeManagerOptions {
  /** The kubelet's root directory, e.g. `<data>/kubelet`. */
  rootDir: string;
  source: ObjectSource;
  nodeName: string;
  log?: Logger;
  /** The cluster CA (PEM) written as `ca.crt` of the default `kube-api-access-*` projected volume. */
  caCertPem?: string;
  /**
   * Issues a service account token for a `serviceAccountToken` projection (the TokenRequest
   * API). Called on every setUp/refresh; the callback owns caching and rotation.
   */
  tokenFor?: (pod: Pod, audience: string, expirationSeconds: number) => Promise<string>;
  /** For downward API resourceFieldRef without limits, and the default size of memory emptyDirs. */
  nodeAllocatable?: NodeAllocatable;
}

export interface MountedVolume {
  hostPath: string;
  /** The plugin demands a read-only mount (configMap, secret, downwardAPI, projected). */
  readOnly: boolean;
}

export interface VolumeFailure {
  volume: string;
  message: string;
}

/** One or more volumes of a pod could not be set up; one FailedMount event per failure. */
export class VolumeSetUpError extends Error {
  constructor(readonly failures: VolumeFailure[], readonly changed = false) {
    super(failures.map((f) => `MountVolume.SetUp failed for volume "${f.volume}" : ${f.message}`).join('; '));
    this.name = 'VolumeSetUpError';
  }
}

const PLUGIN_DIR = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

type AtomicKind = 'configMap' | 'secret' | 'downwardAPI' | 'projected';
const ATOMIC_KINDS: AtomicKind[] = ['configMap', 'secret', 'downwardAPI', 'projected'];
/** secret and projected volumes live on tmpfs (upstream wraps them in a Memory emptyDir). */
const ON_TMPFS: Record<AtomicKind, boolean> = { configMap: false, secret: true, downwardAPI: false, projected: true };

const DEFAULT_MODE = 0o644;
const EMPTY_DIR_MODE = 0o777;
const DEFAULT_TOKEN_EXPIRATION = 3600;

export class VolumeManager {
  private readonly log: Logger;
  private readonly locks = new Map<string, Promise<void>>();

  constructor(private readonly opts: VolumeManagerOptions) {
    this.log = opts.log ?? logger('kubelet-volumes');
  }

  /** `<rootDir>/pods/<uid>`. */
  podDir(uid: string): string {
    checkUid(uid);
    return path.join(this.opts.rootDir, 'pods', uid);
  }

  private volumeDir(uid: string, plugin: string, name: string): string {
    return path.join(this.podDir(uid), 'volumes', plugin, name);
  }

  /**
   * Makes the pod's directories and sets up every volume. Idempotent: a second call re-checks
   * and rewrites (atomically, only if changed) without remounting. Throws VolumeSetUpError
   * naming every volume that failed after trying them all.
   */
  async setUp(pod: Pod): Promise<Map<string, MountedVolume>> {
    const uid = podUid(pod);
    return this.exclusive(uid, async () => {
      const dir = this.podDir(uid);
      for (const d of [dir, path.join(dir, 'volumes'), path.join(dir, 'plugins')]) await fs.mkdir(d, { recursive: true, mode: 0o750 });
      const out = new Map<string, MountedVolume>();
      const failures: VolumeFailure[] = [];
      for (const vol of pod.spec?.volumes ?? []) {
        try {
          out.set(vol.name, await this.setUpVolume(pod, vol));
        } catch (e) {
          failures.push({ volume: vol.name, message: errMessage(e) });
        }
      }
      if (failures.length) {
        this.log.warn('volume setup failed', { pod: podKey(pod), failures });
        throw new VolumeSetUpError(failures);
      }
      return out;
    });
  }

  /**
   * Rewrites the configMap, secret, downwardAPI and projected volumes from current objects (and
   * the current pod, for labels and annotations). Returns whether any file changed. A pod with
   * no directory (never set up, or torn down) is left alone. On failure the old files stay and
   * a VolumeSetUpError (with `changed` for the volumes that did update) is thrown.
   */
  async refresh(pod: Pod): Promise<boolean> {
    const uid = podUid(pod);
    return this.exclusive(uid, async () => {
      if (!(await exists(this.podDir(uid)))) return false;
      let changed = false;
      const failures: VolumeFailure[] = [];
      for (const vol of pod.spec?.volumes ?? []) {
        const kind = atomicKind(vol);
        if (!kind) continue;
        try {
          if ((await this.setUpAtomic(pod, vol, kind)).changed) changed = true;
        } catch (e) {
          failures.push({ volume: vol.name, message: errMessage(e) });
        }
      }
      if (failures.length) {
        this.log.warn('volume refresh failed', { pod: podKey(pod), failures });
        throw new VolumeSetUpError(failures, changed);
      }
      if (changed) this.log.debug('volumes refreshed', { pod: podKey(pod) });
      return changed;
    });
  }

  /**
   * Unmounts every mount below the pod directory (deepest first, from /proc/self/mountinfo)
   * and removes the directory. Refuses to remove anything while a mount remains, so a stuck
   * mount can never make the recursive delete reach into another filesystem.
   */
  async tearDown(podUid: string): Promise<void> {
    return this.exclusive(podUid, async () => {
      const dir = this.podDir(podUid);
      if (!(await exists(dir))) return;
      const real = await fs.realpath(dir);
      const under = async () => (await mountPoints()).filter((m) => m === real || m.startsWith(real + '/'));
      const errors: string[] = [];
      for (let round = 0; round < 8; round++) {
        const mounts = await under();
        if (mounts.length === 0) break;
        mounts.sort((a, b) => depth(b) - depth(a) || b.length - a.length);
        for (const m of mounts) {
          try {
            await run('umount', [m]);
          } catch (e) {
            errors.push(`${m}: ${execMessage(e)}`);
          }
        }
      }
      const left = await under();
      if (left.length) {
        throw new Error(`unable to tear down pod ${podUid}: still mounted: ${left.join(', ')}${errors.length ? ` (${errors.join('; ')})` : ''}`);
      }
      await fs.rm(dir, { recursive: true, force: true });
      this.log.debug('pod volumes torn down', { podUID: podUid });
    });
  }

  /** The pod UIDs that have a directory on disk (for orphan cleanup). */
  async listPodDirs(): Promise<string[]> {
    try {
      const entries = await fs.readdir(path.join(this.opts.rootDir, 'pods'), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (e: any) {
      if (e.code === 'ENOENT') return [];
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------

  private async setUpVolume(pod: Pod, vol: Volume): Promise<MountedVolume> {
    if (vol.emptyDir) return this.setUpEmptyDir(pod, vol);
    if (vol.hostPath) {
      await checkHostPath(vol.hostPath.path, vol.hostPath.type ?? '');
      return { hostPath: vol.hostPath.path, readOnly: false };
    }
    const kind = atomicKind(vol);
    if (kind) return (await this.setUpAtomic(pod, vol, kind)).volume;
    if (vol.persistentVolumeClaim) throw new Error('persistentVolumeClaim volumes are not supported by this node yet');
    const source = Object.keys(vol).find((k) => k !== 'name' && (vol as any)[k] != null);
    if (!source) throw new Error('volume has no source');
    throw new Error(`${source} volumes are not supported by this node yet`);
  }

  private async setUpEmptyDir(pod: Pod, vol: Volume): Promise<MountedVolume> {
    const uid = podUid(pod);
    const dir = this.volumeDir(uid, PLUGIN_DIR.emptyDir, vol.name);
    const medium = vol.emptyDir?.medium ?? '';
    if (medium !== '' && medium !== 'Memory') {
      if (medium.startsWith('HugePages')) throw new Error(`emptyDir medium ${medium} is not supported by this node yet`);
      throw new Error(`unknown storage medium ${JSON.stringify(medium)}`);
    }
    let fresh = await ensureDir(dir, EMPTY_DIR_MODE);
    if (medium === 'Memory' && !(await isMountPoint(dir))) {
      const size = this.memoryEmptyDirSize(pod, vol);
      await mountTmpfs(dir, size);
      fresh = true;
    }
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    // Ownership is given once, when the directory appears; the container owns it afterwards.
    if (fresh && fsGroup != null) await applyFsGroup(dir, fsGroup, false);
    return { hostPath: dir, readOnly: false };
  }

  /**
   * The tmpfs size of a memory emptyDir (SizeMemoryBackedVolumes): the smallest positive of the
   * node's allocatable memory, the pod's memory limit (when every container has one) and the
   * volume's sizeLimit; undefined (the kernel default) when none is known.
   */
  private memoryEmptyDirSize(pod: Pod, vol: Volume): bigint | undefined {
    const candidates: bigint[] = [];
    const alloc = this.opts.nodeAllocatable?.memory;
    if (alloc && alloc > 0) candidates.push(BigInt(Math.floor(alloc)));
    const podLimit = podMemoryLimit(pod);
    if (podLimit && podLimit > 0n) candidates.push(podLimit);
    const raw = vol.emptyDir?.sizeLimit;
    if (raw !== undefined) {
      const q = parseQuantityExact(raw as string | number);
      if (!q) throw new Error(`invalid sizeLimit ${JSON.stringify(raw)}`);
      const v = quantityIntValue(q);
      if (v > 0n) candidates.push(v);
    }
    if (!candidates.length) return undefined;
    return candidates.reduce((a, b) => (b < a ? b : a));
  }

  private async setUpAtomic(pod: Pod, vol: Volume, kind: AtomicKind): Promise<{ volume: MountedVolume; changed: boolean }> {
    const uid = podUid(pod);
    const dir = this.volumeDir(uid, PLUGIN_DIR[kind], vol.name);
    // The payload is gathered first so a missing object fails before anything is created.
    const payload = await this.payloadFor(pod, vol, kind);
    await ensureDir(dir, EMPTY_DIR_MODE);
    if (ON_TMPFS[kind] && !(await isMountPoint(dir))) {
      await mountTmpfs(dir, undefined);
      await fs.chmod(dir, EMPTY_DIR_MODE);
    }
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    const changed = await new AtomicWriter(dir).write(payload, {
      setPerms: fsGroup != null ? (tsDir) => applyFsGroup(tsDir, fsGroup, true) : undefined,
    });
    return { volume: { hostPath: dir, readOnly: true }, changed };
  }

  private async payloadFor(pod: Pod, vol: Volume, kind: AtomicKind): Promise<Payload> {
    const ns = pod.metadata?.namespace ?? 'default';
    switch (kind) {
      case 'configMap': {
        const src = vol.configMap!;
        const name = src.name ?? '';
        const cm = await this.opts.source.getConfigMap(ns, name);
        if (!cm) {
          if (src.optional) return new Map();
          throw new Error(`configmap "${name}" not found`);
        }
        return configMapPayload(src.items, cm, src.defaultMode ?? DEFAULT_MODE, !!src.optional);
      }
      case 'secret': {
        const src = vol.secret!;
        const name = src.secretName ?? '';
        const s = await this.opts.source.getSecret(ns, name);
        if (!s) {
          if (src.optional) return new Map();
          throw new Error(`secret "${name}" not found`);
        }
        return secretPayload(src.items, s, src.defaultMode ?? DEFAULT_MODE, !!src.optional);
      }
      case 'downwardAPI': {
        const src = vol.downwardAPI!;
        return downwardAPIPayload(src.items, pod, src.defaultMode ?? DEFAULT_MODE, this.opts.nodeAllocatable);
      }
      case 'projected':
        return this.projectedPayload(pod, vol);
    }
  }

  private async projectedPayload(pod: Pod, vol: Volume): Promise<Payload> {
    const ns = pod.metadata?.namespace ?? 'default';
    const src = vol.projected!;
    const defaultMode = src.defaultMode ?? DEFAULT_MODE;
    const kubeApiAccess = isKubeApiAccessVolume(vol);
    const payload: Payload = new Map();
    const errors: string[] = [];
    const merge = (p: Payload) => { for (const [k, v] of p) payload.set(k, v); };
    for (const source of src.sources ?? []) {
      try {
        merge(await this.projectionPayload(pod, ns, source, defaultMode, kubeApiAccess));
      } catch (e) {
        errors.push(errMessage(e));
      }
    }
    // utilerrors.NewAggregate prints one error bare and several as a bracketed list.
    if (errors.length === 1) throw new Error(errors[0]);
    if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
    return payload;
  }

  private async projectionPayload(pod: Pod, ns: string, source: VolumeProjection, defaultMode: number, kubeApiAccess: boolean): Promise<Payload> {
    if (source.configMap) {
      const cmSrc = source.configMap;
      const name = cmSrc.name ?? '';
      if (kubeApiAccess && name === 'kube-root-ca.crt' && this.opts.caCertPem !== undefined) {
        const cm: ConfigMap = { metadata: { name, namespace: ns }, data: { 'ca.crt': this.opts.caCertPem } };
        return configMapPayload(cmSrc.items, cm, defaultMode, !!cmSrc.optional);
      }
      let cm = await this.opts.source.getConfigMap(ns, name);
      if (!cm) {
        if (!cmSrc.optional) throw new Error(`configmap "${name}" not found`);
        cm = { metadata: { name, namespace: ns } };
      }
      return configMapPayload(cmSrc.items, cm, defaultMode, !!cmSrc.optional);
    }
    if (source.secret) {
      const sSrc = source.secret;
      const name = sSrc.name ?? '';
      let s = await this.opts.source.getSecret(ns, name);
      if (!s) {
        if (!sSrc.optional) throw new Error(`secret "${name}" not found`);
        s = { metadata: { name, namespace: ns } };
      }
      return secretPayload(sSrc.items, s, defaultMode, !!sSrc.optional);
    }
    if (source.downwardAPI) return downwardAPIPayload(source.downwardAPI.items, pod, defaultMode, this.opts.nodeAllocatable);
    if (source.serviceAccountToken) {
      const t = source.serviceAccountToken;
      let token: string;
      if (this.opts.tokenFor) {
        token = await this.opts.tokenFor(pod, t.audience ?? '', t.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION);
      } else if (kubeApiAccess) {
        // No token issuer on this node yet: the default volume still gets its file so that
        // clients find ca.crt and namespace; an empty token authenticates as nobody.
        token = '';
      } else {
        throw new Error('serviceAccountToken projections are not supported by this node yet');
      }
      return new Map([[t.path, { data: Buffer.from(token, 'utf8'), mode: defaultMode }]]);
    }
    const kind = Object.keys(source).find((k) => (source as any)[k] != null) ?? 'empty';
    throw new Error(`${kind} projections are not supported by this node yet`);
  }

  /** Serializes calls for one pod (pod workers already do; this keeps stray callers safe). */
  private async exclusive<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    checkUid(uid);
    const prev = this.locks.get(uid) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.locks.set(uid, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(uid) === tail) this.locks.delete(uid);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Payloads (configmap.MakePayload, secret.MakePayload, downwardapi.CollectData)

/** configMap data (UTF-8) and binaryData (base64) as files: every key, or the listed items. */
export function configMapPayload(items: KeyToPath[] | undefined, cm: ConfigMap, defaultMode: number, optional: boolean): Payload {
  const data = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) data.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) data.set(k, Buffer.from(v, 'base64'));
  return keysToPayload(items, data, defaultMode, optional, (key) => `configmap references non-existent config key: ${key}`);
}

/** secret data (base64) as files: every key, or the listed items. */
export function secretPayload(items: KeyToPath[] | undefined, s: Secret, defaultMode: number, optional: boolean): Payload {
  const data = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) data.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries((s as { stringData?: Record<string, string> }).stringData ?? {})) data.set(k, Buffer.from(v, 'utf8'));
  return keysToPayload(items, data, defaultMode, optional, (key) => `references non-existent secret key: ${key}`);
}

function keysToPayload(items: KeyToPath[] | undefined, data: Map<string, Buffer>, defaultMode: number, optional: boolean, missing: (key: string) => string): Payload {
  const payload: Payload = new Map();
  if (!items || items.length === 0) {
    for (const [k, v] of data) payload.set(k, { data: v, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (!v) {
      if (optional) continue;
      throw new Error(missing(item.key));
    }
    payload.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** downward API files: metadata fields (maps as `key="value"` lines) and container resources. */
export function downwardAPIPayload(items: DownwardAPIVolumeFile[] | undefined, pod: Pod, defaultMode: number, alloc?: NodeAllocatable): Payload {
  const payload: Payload = new Map();
  const errors: string[] = [];
  for (const item of items ?? []) {
    let value = '';
    try {
      if (item.fieldRef) {
        value = extractFieldPath(pod, item.fieldRef.fieldPath);
      } else if (item.resourceFieldRef) {
        const ref = item.resourceFieldRef;
        const container = findContainer(pod, ref.containerName ?? '');
        value = extractResourceValue(ref, alloc ? withDefaultLimits(container, alloc) : container);
      }
    } catch (e) {
      errors.push(errMessage(e));
      continue;
    }
    payload.set(path.posix.normalize(item.path), { data: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode });
  }
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
  return payload;
}

/** The projected volume the ServiceAccount admission plugin adds to every pod. */
export function isKubeApiAccessVolume(vol: Volume): boolean {
  return vol.name.startsWith('kube-api-access-') && !!vol.projected?.sources?.some((s) => s.serviceAccountToken);
}

// ---------------------------------------------------------------------------------------------
// hostPath (pkg/volume/hostpath checkType)

const HOST_PATH_DESCRIPTIONS: Record<string, string> = {
  Directory: 'directory', File: 'file', Socket: 'socket file', CharDevice: 'character device', BlockDevice: 'block device',
};

/** Creates (for the *OrCreate types) and checks a hostPath; throws the kubelet's message. */
export async function checkHostPath(p: string, type: string): Promise<void> {
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!(await statExists(p))) await fs.mkdir(p, { recursive: true, mode: 0o755 });
      return typeMatchedOrError(p, 'Directory');
    case 'Directory':
      return typeMatchedOrError(p, 'Directory');
    case 'FileOrCreate':
      if (!(await statExists(p))) {
        // Only the file is made; a missing parent directory is an error, as upstream.
        try {
          const h = await fs.open(p, fsConstants.O_CREAT | fsConstants.O_WRONLY, 0o644);
          await h.close();
        } catch (e: any) {
          if (e.code !== 'EEXIST') throw new Error(`unable to create hostPath file ${p}: ${e.code === 'ENOENT' ? `directory ${path.dirname(p)} doesn't exist` : e.message}`);
        }
      }
      return typeMatchedOrError(p, 'File');
    case 'File':
    case 'Socket':
    case 'CharDevice':
    case 'BlockDevice':
      return typeMatchedOrError(p, type);
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}

async function typeMatchedOrError(p: string, expected: string): Promise<void> {
  let st;
  try {
    st = await fs.stat(p);
  } catch {
    throw new Error(`hostPath ${p} doesn't exist`);
  }
  const actual = st.isDirectory() ? 'Directory' : st.isFile() ? 'File' : st.isSocket() ? 'Socket'
    : st.isCharacterDevice() ? 'CharDevice' : st.isBlockDevice() ? 'BlockDevice' : undefined;
  const desc = HOST_PATH_DESCRIPTIONS[expected];
  if (!actual) {
    throw new Error(`hostPath type check failed, ${p} is not a ${desc}, unable to determine its type: only recognise file, directory, socket, block device and character device`);
  }
  if (actual !== expected) throw new Error(`hostPath type check failed: ${p} is not a ${desc}, it's a ${actual}`);
}

// ---------------------------------------------------------------------------------------------
// Mounts, ownership, small helpers

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded). */
export async function mountPoints(): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length > 4) out.push(fields[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

async function isMountPoint(dir: string): Promise<boolean> {
  const real = await fs.realpath(dir);
  return (await mountPoints()).includes(real);
}

async function mountTmpfs(dir: string, size: bigint | undefined): Promise<void> {
  const options = [`mode=${EMPTY_DIR_MODE.toString(8)}`];
  if (size !== undefined) options.push(`size=${size}`);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', dir]);
  } catch (e) {
    throw new Error(`unable to mount tmpfs at ${dir}: ${execMessage(e)}`);
  }
}

/**
 * fsGroup ownership (volume.SetVolumeOwnership): group → fsGroup on everything, group read
 * (read-only volumes) or read-write added to the mode, directories also get group execute and
 * setgid. Symlinks are re-grouped but never chmod-ed (that would follow them).
 */
async function applyFsGroup(root: string, gid: number, readOnly: boolean): Promise<void> {
  const visit = async (p: string) => {
    const st = await fs.lstat(p);
    await fs.lchown(p, -1, gid);
    if (st.isSymbolicLink()) return;
    let mask = readOnly ? 0o440 : 0o660;
    if (st.isDirectory()) mask |= 0o2000 | 0o110;
    await fs.chmod(p, (st.mode & 0o7777) | mask);
    if (st.isDirectory()) for (const name of await fs.readdir(p)) await visit(path.join(p, name));
  };
  await visit(root);
}

/** Creates the directory if needed (exact mode, past the umask); returns true if it was created. */
async function ensureDir(dir: string, mode: number): Promise<boolean> {
  if (await exists(dir)) return false;
  await fs.mkdir(dir, { recursive: true, mode });
  await fs.chmod(dir, mode);
  return true;
}

/** The pod's memory limit as the pod cgroup sees it: the containers' sum (max with any init container), only if all have one. */
function podMemoryLimit(pod: Pod): bigint | undefined {
  const limitOf = (c: { resources?: { limits?: Record<string, unknown> } }) => {
    const raw = c.resources?.limits?.memory;
    const q = raw !== undefined ? parseQuantityExact(raw as string | number) : undefined;
    return q ? quantityIntValue(q) : undefined;
  };
  let sum = 0n;
  for (const c of pod.spec?.containers ?? []) {
    const l = limitOf(c);
    if (l === undefined) return undefined;
    sum += l;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const l = limitOf(c);
    if (l === undefined) return undefined;
    if (l > sum) sum = l;
  }
  return sum;
}

function atomicKind(vol: Volume): AtomicKind | undefined {
  return ATOMIC_KINDS.find((k) => vol[k] != null);
}

function podUid(pod: Pod): string {
  const uid = pod.metadata?.uid;
  if (!uid) throw new Error(`pod ${podKey(pod)} has no uid`);
  return uid;
}

function checkUid(uid: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(uid)) throw new Error(`invalid pod uid ${JSON.stringify(uid)}`);
}

const podKey = (pod: Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
const depth = (p: string) => p.split('/').length;

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** os.Stat semantics: a dangling symlink does not exist. */
async function statExists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function execMessage(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr && err.stderr.trim()) || err.message || String(e);
}
