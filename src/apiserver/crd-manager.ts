/**
 * Serves CustomResourceDefinitions: watches CRD objects in the watch cache and, for every served
 * version, registers a generic store (REST, watch, tables from additionalPrinterColumns), the
 * discovery entry and the OpenAPI schema; removes them when the CRD goes. Deleting a CRD first
 * deletes all its objects (the cleanup finalizer), as apiextensions-apiserver's finalizer
 * controller does. Stored objects use the storage version; other versions are served by
 * rewriting apiVersion (conversion strategy None).
 */
import type { ResourceInfo } from '../api/resources.js';
import type { SchemaMap } from '../api/schema-types.js';
import type { Storage } from '../storage/interface.js';
import { NotFoundError } from '../storage/interface.js';
import { ResourceStore, type Conversion, type WriteContext } from '../registry/store.js';
import { CustomResourceStrategy } from '../registry/apiextensions/custom-resource-strategy.js';
import { CRD_CLEANUP_FINALIZER } from '../registry/apiextensions/crd-strategy.js';
import { crdResourceInfos, crdOpenAPISchemas, crdPrinterColumns, crdVersionSchema, scaleReplicasPaths, storageVersion } from '../apiextensions/crd-resource.js';
import { StructuralSchema } from '../apiextensions/schema.js';
import type { WatchCache, CacheEvent } from './watch-cache.js';
import type { Admission } from './admission/admission.js';
import type { PrinterColumn } from './tables/table.js';
import { logger } from '../util/log.js';

const log = logger('crd-manager');

export interface CustomStore {
  store: ResourceStore;
  printerColumns: PrinterColumn[];
}

export interface CRDManagerHost {
  storage: Storage;
  cache: WatchCache;
  admission: Admission;
  crdStore: ResourceStore;
  /** Called with the full set of custom resources and their schemas after every change. */
  publish(infos: ResourceInfo[], stores: Map<string, ResourceStore>, schemas: SchemaMap): void;
  /** Sets up a new store like the built-in ones (indexer, field manager). */
  prepareStore(store: ResourceStore): void;
}

const SYSTEM_CTX: WriteContext = { user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] }, dryRun: false, warnings: [] };

export class CRDManager {
  private byCRD = new Map<string, { rv: string; infos: ResourceInfo[]; stores: Map<string, ResourceStore>; schemas: SchemaMap }>();
  private chain: Promise<void> = Promise.resolve();
  private stop?: () => void;

  constructor(private host: CRDManagerHost) {}

  async start(): Promise<void> {
    const { cache, crdStore } = this.host;
    await cache.sync();
    for (const e of cache.list(crdStore.prefix)) this.apply(crdStore.decode(e.json, e.rev));
    this.publish();
    this.stop = cache.watch({
      prefix: crdStore.prefix,
      onEvent: (ev: CacheEvent) => {
        const obj = crdStore.decode(ev.entry.json, ev.rev);
        this.enqueue(async () => {
          if (ev.type === 'DELETED') this.remove(obj.metadata.name);
          else {
            this.apply(obj);
            if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) await this.cleanup(obj);
          }
          this.publish();
        });
      },
      onBookmark: () => {},
      onError: (err) => log.error('CRD watch failed', { err }),
    }, cache.revision);
    // CRDs being deleted when the server stopped finish their cleanup now.
    for (const e of cache.list(crdStore.prefix)) {
      const crd = crdStore.decode(e.json, e.rev);
      if (crd.metadata.deletionTimestamp) this.enqueue(() => this.cleanup(crd));
    }
  }

  close(): void { this.stop?.(); }

  /** Waits for queued CRD changes to be applied (tests, and requests right after a CRD write). */
  settled(): Promise<void> { return this.chain; }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err) => log.error('CRD change failed', { err }));
  }

  private apply(crd: any): void {
    const name = crd.metadata.name;
    const rv = crd.metadata.resourceVersion;
    if (this.byCRD.get(name)?.rv === rv) return;
    let infos: ResourceInfo[];
    try {
      infos = crdResourceInfos(crd);
    } catch (err) {
      log.warn('CRD cannot be served', { crd: name, err });
      return;
    }
    const stores = new Map<string, ResourceStore>();
    const schemas: SchemaMap = {};
    const storageVer = storageVersion(crd);
    for (const info of infos) {
      const raw = crdVersionSchema(crd, info.version);
      const schema = raw ? new StructuralSchema(raw) : undefined;
      const strategy = new CustomResourceStrategy(info, schema, scaleReplicasPaths(crd, info.version));
      const apiVersion = `${info.group}/${info.version}`;
      const storedApiVersion = `${info.group}/${storageVer}`;
      const conversion: Conversion = {
        toServed: (o) => { o.apiVersion = apiVersion; return o; },
        toStored: (o) => { o.apiVersion = storedApiVersion; return o; },
      };
      const store = new ResourceStore(info, strategy, this.host.storage, this.host.cache, this.host.admission, conversion);
      store.custom = true;
      store.printerColumns = crdPrinterColumns(crd, info.version);
      store.scalePaths = scaleReplicasPaths(crd, info.version);
      this.host.prepareStore(store);
      stores.set(`${info.group}/${info.version}/${info.plural}`, store);
      Object.assign(schemas, crdOpenAPISchemas(crd, info.version));
    }
    this.byCRD.set(name, { rv, infos, stores, schemas });
    log.info('serving custom resource', { crd: name, versions: infos.map((i) => i.version) });
  }

  private remove(name: string): void {
    if (this.byCRD.delete(name)) log.info('stopped serving custom resource', { crd: name });
  }

  private publish(): void {
    const infos: ResourceInfo[] = [];
    const stores = new Map<string, ResourceStore>();
    const schemas: SchemaMap = {};
    for (const v of this.byCRD.values()) {
      infos.push(...v.infos);
      for (const [k, s] of v.stores) stores.set(k, s);
      Object.assign(schemas, v.schemas);
    }
    this.host.publish(infos, stores, schemas);
  }

  /** Deletes every object of a CRD being deleted, then releases its cleanup finalizer. */
  private async cleanup(crd: any): Promise<void> {
    const group = crd.spec?.group;
    const plural = crd.spec?.names?.plural;
    const prefix = `/registry/${group}/${plural}/`;
    const { storage, crdStore } = this.host;
    for (;;) {
      const page = await storage.list(prefix, { limit: 500 });
      for (const kv of page.items) {
        try { await storage.delete(kv.key); } catch (err) { if (!(err instanceof NotFoundError)) throw err; }
      }
      if (!page.more) break;
    }
    await crdStore.guaranteedUpdate(undefined, crd.metadata.name, SYSTEM_CTX, async (current) => {
      if (!current) throw new NotFoundError(crd.metadata.name);
      const obj = structuredClone(current);
      obj.metadata.finalizers = (obj.metadata.finalizers ?? []).filter((f: string) => f !== CRD_CLEANUP_FINALIZER);
      return { obj, subresource: '__finalize__' };
    }).catch((err) => { if (!(err instanceof NotFoundError) && (err as any)?.code !== 404) throw err; });
    log.info('deleted all objects of a deleted CRD', { crd: crd.metadata.name });
  }
}
