import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../apimachinery/errors.js';
import { crdStatus, defaultCRD, prepareCRDForCreate, prepareCRDForUpdate, validateCRD, validateCRDUpdate, validateStructural } from './crd-validation.js';


const schema = () => ({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        cronSpec: { type: 'string' },
        replicas: { type: 'integer', default: 1 },
      },
    },
    status: { type: 'object', properties: { replicas: { type: 'integer' } } },
  },
});

function crontab(mut?: (c: any) => void): any {
  const c: any = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema() } }],
    },
  };
  mut?.(c);
  defaultCRD(c);
  return c;
}

const messages = (c: any) => validateCRD(c).map(fieldErrorMessage);

test('defaulting fills singular, listKind, conversion and storedVersions', () => {
  const c: any = { spec: { names: { plural: 'foos', kind: 'Foo' }, versions: [{ name: 'v1', storage: true }] } };
  defaultCRD(c);
  assert.equal(c.spec.names.singular, 'foo');
  assert.equal(c.spec.names.listKind, 'FooList');
  assert.deepEqual(c.spec.conversion, { strategy: 'None' });
  assert.deepEqual(c.status, { storedVersions: ['v1'] });
  const w: any = { spec: { names: { kind: 'Foo' }, conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 's', namespace: 'n' } } } } } };
  defaultCRD(w);
  assert.equal(w.spec.conversion.webhook.clientConfig.service.port, 443);
});

test('a good CRD validates', () => {
  assert.deepEqual(messages(crontab()), []);
});

test('CRD validation errors (table)', () => {
  const cases: [string, (c: any) => void, string[]][] = [
    ['name must be plural.group', (c) => { c.metadata.name = 'crontab.stable.example.com'; }, [
      'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
    ]],
    ['group needs a dot', (c) => { c.spec.group = 'example'; c.metadata.name = 'crontabs.example'; }, [
      'spec.group: Invalid value: "example": should be a domain with at least one dot',
    ]],
    ['scope', (c) => { c.spec.scope = 'Global'; }, ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']],
    ['plural must be a DNS-1035 label', (c) => { c.spec.names.plural = 'Crontabs'; c.metadata.name = 'Crontabs.stable.example.com'; }, [
      "metadata.name: Invalid value: \"Crontabs.stable.example.com\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      "spec.names.plural: Invalid value: \"Crontabs\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]],
    ['kind may be mixed case but must otherwise be a label', (c) => { c.spec.names.kind = 'Cron_Tab'; c.spec.names.listKind = 'CronTabList'; }, [
      "spec.names.kind: Invalid value: \"Cron_Tab\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]],
    ['kind and listKind differ', (c) => { c.spec.names.listKind = 'CronTab'; }, ['spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same']],
    ['two storage versions', (c) => {
      c.spec.versions.push({ name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: schema() } });
    }, ['spec.versions: Invalid value: [{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"cronSpec":{"type":"string"},"replicas":{"type":"integer","default":1}}},"status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}}},{"name":"v2","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"cronSpec":{"type":"string"},"replicas":{"type":"integer","default":1}}},"status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}}}]: must have exactly one version marked as storage version',
      // as upstream: PrepareForCreate records only the first storage version
      'status.storedVersions: Invalid value: ["v1"]: must have the storage version v2']],
    ['duplicate version names', (c) => { c.spec.versions.push({ ...c.spec.versions[0], storage: false }); }, ['must contain unique version names']],
    ['bad version name', (c) => { c.spec.versions[0].name = '1'; }, [
      "spec.versions[0].name: Invalid value: \"1\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      "spec.version: Invalid value: \"1\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]],
    ['schema required', (c) => { delete c.spec.versions[0].schema; }, ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']],
    ['non-structural: missing type', (c) => { c.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.cronSpec = { description: 'x' }; }, [
      'spec.validation.openAPIV3Schema.properties[spec].properties[cronSpec].type: Required value: must not be empty for specified object fields',
    ]],
    ['non-structural: additionalProperties with properties', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.spec.additionalProperties = { type: 'string' };
    }, ['spec.validation.openAPIV3Schema.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive']],
    ['non-structural: array without items', (c) => { c.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.list = { type: 'array' }; }, [
      'spec.validation.openAPIV3Schema.properties[spec].properties[list].items: Required value: must be specified',
    ]],
    ['non-structural: root metadata beyond name', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.metadata = { type: 'object', properties: { labels: { type: 'object' } } };
    }, ['spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified']],
    ['root metadata may restrict the name', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.metadata = { type: 'object', properties: { name: { type: 'string', maxLength: 10 } } };
    }, []],
    ['type in a nested value validation', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.spec.anyOf = [{ type: 'object', required: ['cronSpec'] }];
    }, ['spec.validation.openAPIV3Schema.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural']],
    ['completeness of value validations (checked from the root, as upstream)', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.allOf = [{ properties: { spec: { properties: { other: { minLength: 1 } } } } }];
    }, ['spec.validation.openAPIV3Schema.properties[spec].properties[other]: Required value: because it is defined in spec.validation.openAPIV3Schema.allOf[0].properties[spec].properties[other]']],
    ['unsupported type', (c) => { c.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.cronSpec.type = 'str'; }, [
      'spec.validation.openAPIV3Schema.properties[spec].properties[cronSpec].type: Unsupported value: "str": supported values: "array", "boolean", "integer", "number", "object", "string"',
    ]],
    ['uniqueItems', (c) => { c.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.l = { type: 'array', uniqueItems: true, items: { type: 'string' } }; }, [
      'spec.validation.openAPIV3Schema.properties[spec].properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
    ]],
    ['default must validate', (c) => { c.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.replicas.default = 'one'; }, [
      'spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"',
    ]],
    ['default must be pruned', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.spec.default = { cronSpec: 'x', bogus: 1 };
    }, ['spec.validation.openAPIV3Schema.properties[spec].default: Invalid value: {"cronSpec":"x","bogus":1}: must not have unknown fields']],
    ['no defaults in top-level metadata', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.metadata = { type: 'object', properties: { name: { type: 'string', default: 'x' } } };
    }, ['spec.validation.openAPIV3Schema.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata']],
    ['bad printer column', (c) => {
      c.spec.versions[0].additionalPrinterColumns = [{ name: '', type: 'map', jsonPath: 'spec.x' }, { name: 'F', type: 'string', format: 'weird', jsonPath: '.spec.x' }];
    }, [
      'spec.additionalPrinterColumns[0].name: Required value',
      'spec.additionalPrinterColumns[0].type: Invalid value: "map": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.x": must be a simple json path starting with .',
      'spec.additionalPrinterColumns[1].format: Invalid value: "weird": must be one of byte,date,date-time,double,float,int32,int64,password',
    ]],
    ['scale paths', (c) => {
      c.spec.versions[0].subresources = { scale: { specReplicasPath: '.status.replicas', statusReplicasPath: '', labelSelectorPath: '.metadata.x' } };
    }, [
      'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
      'spec.subresources.scale.statusReplicasPath: Required value',
      'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.x": should be a json path under either .spec or .status',
    ]],
    ['status subresource restricts the root schema', (c) => {
      c.spec.versions[0].subresources = { status: {} };
      c.spec.versions[0].schema.openAPIV3Schema.additionalProperties = { type: 'string' };
      delete c.spec.versions[0].schema.openAPIV3Schema.properties;
    }, [
      'spec.validation.openAPIV3Schema: Invalid value: {"type":"object","additionalProperties":{"type":"string"}}: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled',
      'spec.validation.openAPIV3Schema.additionalProperties: Forbidden: must not be used at the root',
    ]],
    ['bad CEL rule', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [{ rule: 'self.replicas >' }, { rule: 'self.nope > 0' }, { rule: 'self.replicas' }];
    }, [
      "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: {\"rule\":\"self.replicas >\"}: compilation failed: ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>'\n | self.replicas >\n | ...............^",
      "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule: Invalid value: {\"rule\":\"self.nope > 0\"}: compilation failed: ERROR: <input>:1:5: undefined field 'nope'\n | self.nope > 0\n | ....^",
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].rule: Invalid value: {"rule":"self.replicas"}: cel expression must evaluate to a bool',
    ]],
    ['CEL rule fields', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [
        { rule: ' ' }, { rule: 'true', message: ' ' }, { rule: 'true', reason: 'Bogus' }, { rule: 'true', fieldPath: '.nope' },
      ];
    }, [
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].message: Invalid value: " ": message must be non-empty if specified',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].reason: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[3].fieldPath: Invalid value: ".nope": fieldPath must be a valid path',
    ]],
    ['oldSelf under an atomic list', (c) => {
      c.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.list = {
        type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] },
      };
    }, ['spec.validation.openAPIV3Schema.properties[spec].properties[list].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[spec].properties[list]']],
    ['conversion webhook', (c) => { c.spec.conversion = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v2'] } }; }, [
      'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook',
      'spec.conversion.conversionReviewVersions: Invalid value: ["v2"]: must include at least one of v1, v1beta1',
    ]],
    ['protected groups need API approval', (c) => {
      c.spec.group = 'stable.k8s.io';
      c.metadata.name = 'crontabs.stable.k8s.io';
    }, ['metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111']],
    ['preserveUnknownFields', (c) => { c.spec.preserveUnknownFields = true; }, [
      'spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema',
      'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ]],
  ];
  for (const [name, mut, want] of cases) {
    const got = messages(crontab(mut));
    if (want.length === 1 && !want[0].includes(':')) {
      assert.ok(got.some((m) => m.endsWith(want[0])), `${name}: ${JSON.stringify(got)}`);
      continue;
    }
    assert.deepEqual(got, want, name);
  }
});

test('per-version schemas that differ are reported under spec.versions[i]', () => {
  const c = crontab((x) => {
    const v2 = JSON.parse(JSON.stringify(x.spec.versions[0]));
    v2.name = 'v2';
    v2.storage = false;
    v2.schema.openAPIV3Schema.properties.spec.properties.bad = { type: 'array' };
    x.spec.versions.push(v2);
  });
  assert.deepEqual(messages(c), ['spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[bad].items: Required value: must be specified']);
});

test('validateStructural sorts errors like Kubernetes', () => {
  const errs = validateStructural({ properties: { b: {}, a: { type: 'array' } } }, 'x').map(fieldErrorMessage);
  assert.deepEqual(errs, [
    'x.properties[a].items: Required value: must be specified',
    'x.properties[b].type: Required value: must not be empty for specified object fields',
    'x.type: Required value: must not be empty at the root',
  ]);
});

test('update: group and plural are immutable, scope and kind once established', () => {
  const old = crontab();
  prepareCRDForCreate(old);
  const changed = crontab((c) => { c.spec.scope = 'Cluster'; c.spec.names.kind = 'Cron'; c.spec.names.listKind = 'CronList'; });
  changed.metadata.resourceVersion = '2';
  prepareCRDForUpdate(changed, old);
  assert.deepEqual(validateCRDUpdate(changed, old).map(fieldErrorMessage), []);
  old.status = crdStatus(old, new Date('2024-01-01T00:00:00Z'));
  prepareCRDForUpdate(changed, old);
  assert.deepEqual(validateCRDUpdate(changed, old).map(fieldErrorMessage), [
    'spec.scope: Invalid value: "Cluster": field is immutable',
    'spec.names.kind: Invalid value: "Cron": field is immutable',
  ]);
  const regrouped = crontab((c) => { c.spec.group = 'other.example.com'; c.spec.names.plural = 'crons'; c.metadata.name = 'crontabs.stable.example.com'; });
  regrouped.metadata.resourceVersion = '2';
  prepareCRDForUpdate(regrouped, old);
  const msgs = validateCRDUpdate(regrouped, old).map(fieldErrorMessage);
  assert.ok(msgs.includes('spec.group: Invalid value: "other.example.com": field is immutable'), msgs.join('\n'));
  assert.ok(msgs.includes('spec.names.plural: Invalid value: "crons": field is immutable'), msgs.join('\n'));
});

test('update: a removed stored version must stay until migrated', () => {
  const old = crontab();
  prepareCRDForCreate(old);
  const next = crontab((c) => { c.spec.versions[0].name = 'v2'; });
  next.metadata.resourceVersion = '2';
  prepareCRDForUpdate(next, old);
  assert.deepEqual(next.status.storedVersions, ['v1', 'v2']);
  assert.deepEqual(validateCRDUpdate(next, old).map(fieldErrorMessage), [
    'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions',
  ]);
});

test('prepare for create/update: status, generation', () => {
  const c = crontab();
  prepareCRDForCreate(c);
  assert.deepEqual(c.status, { acceptedNames: { plural: '', kind: '' }, storedVersions: ['v1'] });
  assert.equal(c.metadata.generation, 1);
  const n = crontab((x) => { x.spec.versions[0].served = false; });
  prepareCRDForUpdate(n, c);
  assert.equal(n.metadata.generation, 2);
  const same = crontab();
  prepareCRDForUpdate(same, c);
  assert.equal(same.metadata.generation, 1);
});

test('crdStatus: accepted names and the Established/NamesAccepted conditions', () => {
  const c = crontab((x) => { x.spec.names.categories = ['all']; });
  const s = crdStatus(c, new Date('2024-01-01T00:00:00.123Z'));
  assert.deepEqual(s, {
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    acceptedNames: { plural: 'crontabs', singular: 'crontab', shortNames: ['ct'], kind: 'CronTab', listKind: 'CronTabList', categories: ['all'] },
    storedVersions: ['v1'],
  });
  // transition times are kept
  c.status = s;
  assert.equal(crdStatus(c, new Date('2025-01-01T00:00:00Z')).conditions[1].lastTransitionTime, '2024-01-01T00:00:00Z');
});
