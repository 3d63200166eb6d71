/**
 * events.k8s.io/v1 Events share storage with core/v1 Events (as in Kubernetes); this maps the
 * fields between the two shapes (pkg/apis/events/v1 conversion: regarding ↔ involvedObject,
 * note ↔ message, deprecated* ↔ source/firstTimestamp/lastTimestamp/count, …).
 */
import type { Conversion } from '../store.js';

export const eventsV1Conversion: Conversion = {
  toServed(core: any): any {
    const out: any = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: core.metadata };
    const set = (k: string, v: unknown) => { if (v !== undefined && v !== null && v !== '') out[k] = v; };
    set('eventTime', core.eventTime ?? null);
    if (out.eventTime === undefined) out.eventTime = null;
    if (core.series) set('series', { count: core.series.count, lastObservedTime: core.series.lastObservedTime });
    set('reportingController', core.reportingComponent);
    set('reportingInstance', core.reportingInstance);
    set('action', core.action);
    set('reason', core.reason);
    set('regarding', core.involvedObject);
    set('related', core.related);
    set('note', core.message);
    set('type', core.type);
    if (core.source && (core.source.component || core.source.host)) set('deprecatedSource', core.source);
    set('deprecatedFirstTimestamp', core.firstTimestamp);
    set('deprecatedLastTimestamp', core.lastTimestamp);
    if (core.count) set('deprecatedCount', core.count);
    return out;
  },
  toStored(ev: any): any {
    const out: any = { apiVersion: 'v1', kind: 'Event', metadata: ev.metadata };
    const set = (k: string, v: unknown) => { if (v !== undefined && v !== null && v !== '') out[k] = v; };
    set('involvedObject', ev.regarding ?? {});
    set('reason', ev.reason);
    set('message', ev.note);
    set('source', ev.deprecatedSource ?? {});
    set('firstTimestamp', ev.deprecatedFirstTimestamp);
    set('lastTimestamp', ev.deprecatedLastTimestamp);
    set('count', ev.deprecatedCount);
    set('type', ev.type);
    out.eventTime = ev.eventTime ?? null;
    if (ev.series) set('series', { count: ev.series.count, lastObservedTime: ev.series.lastObservedTime });
    set('action', ev.action);
    set('related', ev.related);
    set('reportingComponent', ev.reportingController ?? '');
    set('reportingInstance', ev.reportingInstance ?? '');
    return out;
  },
};
