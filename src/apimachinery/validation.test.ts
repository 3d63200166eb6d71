import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from './errors.js';
import {
  isConfigMapKey, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isFullyQualifiedDomainName,
  isHTTPHeaderName, isQualifiedName, isRelaxedEnvVarName, isValidCIDR, isValidGroupID, isValidIP, isValidIPv4Address,
  isValidIPv6Address, isValidLabelValue, isValidPercent, isValidPortName, isValidPortNum, isValidUserID,
  isWildcardDNS1123Subdomain, isDomainPrefixedPath, ipFamilyOf, labelSelectorMatches, isConvertibleLabelSelector,
  nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, nameIsPathSegment, regexError, semanticEqual, tooLong, tooMany,
  notFound, validateAnnotations, validateImmutableField, validateLabelSelector, validateLabels, validateObjectMeta,
  validateObjectMetaUpdate, validateTemplateObjectMeta,
} from './validation.js';

const render = (errs: FieldError[]) => errs.map(fieldErrorMessage);

const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('regexError joins examples the way Go does (note the double space)', () => {
  assert.equal(regexError('msg', 'x+'), "msg (regex used for validation is 'x+')");
  assert.equal(regexError('msg', 'x+', 'a'), "msg (e.g. 'a', regex used for validation is 'x+')");
  assert.equal(regexError('msg', 'x+', 'a', 'b'), "msg (e.g. 'a',  or 'b', regex used for validation is 'x+')");
});

test('DNS names', () => {
  const cases: [string, (v: string) => string[], string, string[]][] = [
    ['subdomain ok', isDNS1123Subdomain, 'example.com', []],
    ['subdomain upper', isDNS1123Subdomain, 'Bad_Name', [SUBDOMAIN]],
    ['subdomain trailing dash', isDNS1123Subdomain, 'a-', [SUBDOMAIN]],
    ['subdomain too long', isDNS1123Subdomain, 'a'.repeat(254), ['must be no more than 253 characters']],
    ['label ok', isDNS1123Label, '123-abc', []],
    ['label dots', isDNS1123Label, 'a.b', [LABEL]],
    ['label too long', isDNS1123Label, 'a'.repeat(64), ['must be no more than 63 characters']],
    ['label too long and bad', isDNS1123Label, `${'a'.repeat(64)}_`, ['must be no more than 63 characters', LABEL]],
    ['1035 ok', isDNS1035Label, 'my-svc', []],
    ['1035 digit first', isDNS1035Label, '1svc', [DNS1035]],
    ['wildcard ok', isWildcardDNS1123Subdomain, '*.example.com', []],
    ['wildcard bad', isWildcardDNS1123Subdomain, 'foo.*.com', ["a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]],
  ];
  for (const [name, fn, value, want] of cases) assert.deepEqual(fn(value), want, name);
});

test('name functions allow a trailing dash for generateName prefixes', () => {
  assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
  assert.deepEqual(nameIsDNSSubdomain('web-', false), [SUBDOMAIN]);
  assert.deepEqual(nameIsDNSLabel('web-', true), []);
  assert.deepEqual(nameIsDNS1035Label('svc-', true), []);
  assert.deepEqual(nameIsPathSegment('a/b', false), ["may not contain '/'"]);
  assert.deepEqual(nameIsPathSegment('..', false), ["may not be '..'"]);
  assert.deepEqual(nameIsPathSegment('a%b', false), ["may not contain '%'"]);
  assert.deepEqual(nameIsPathSegment('system:admin', false), []);
});

test('qualified names and label values', () => {
  const cases: [string, string[]][] = [
    ['app', []], ['example.com/app', []], ['app.kubernetes.io/name', []], ['My_Key.1', []],
    ['-bad', [NAME_PART]],
    ['a/b/c', ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]],
    ['/name', ['prefix part must be non-empty']],
    ['Example.com/name', [`prefix part ${SUBDOMAIN}`]],
    ['example.com/', ['name part must be non-empty', NAME_PART]],
    ['', ['name part must be non-empty', NAME_PART]],
    ['a'.repeat(64), ['name part must be no more than 63 characters']],
  ];
  for (const [value, want] of cases) assert.deepEqual(isQualifiedName(value), want, value);
  assert.deepEqual(isValidLabelValue(''), []);
  assert.deepEqual(isValidLabelValue('v1.2_3'), []);
  assert.deepEqual(isValidLabelValue('bad value'), [LABEL_VALUE]);
  assert.deepEqual(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
});

test('ports, percents, headers, keys and env var names', () => {
  assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
  assert.deepEqual(isValidPortNum(65535), []);
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('HTTP'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', 'must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPortName('a--b'), ['must not contain consecutive hyphens']);
  assert.deepEqual(isValidPortName('-web'), ['must not begin or end with a hyphen']);
  assert.deepEqual(isValidPortName('toolongportname1'), ['must be no more than 15 characters']);
  assert.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPercent('25%'), []);
  assert.deepEqual(isValidPercent('25'), ["a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]);
  assert.deepEqual(isHTTPHeaderName('X_Bad'), ["a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"]);
  assert.deepEqual(isConfigMapKey('key.name'), []);
  assert.deepEqual(isConfigMapKey('..data'), ["must not start with '..'"]);
  assert.deepEqual(isConfigMapKey('a/b'), ["a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]);
  assert.deepEqual(isRelaxedEnvVarName('1 MY VAR'), []);
  assert.deepEqual(isRelaxedEnvVarName('A=B'), ["a valid environment variable name must consist only of printable ASCII characters other than '='"]);
  assert.deepEqual(isRelaxedEnvVarName(''), ['environment variable name must be non-empty']);
  assert.deepEqual(isEnvVarName('1X'), ["a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"]);
  assert.deepEqual(isValidUserID(2147483647), []);
  assert.deepEqual(isValidUserID(2147483648), ['must be between 0 and 2147483647, inclusive']);
  assert.deepEqual(isValidGroupID(-1), ['must be between 0 and 2147483647, inclusive']);
});

test('IP addresses, CIDRs and domain names', () => {
  assert.deepEqual(render(isValidIP('spec.ip', '10.0.0.1')), []);
  assert.deepEqual(render(isValidIP('spec.ip', '010.000.000.001')), [], 'leading zeros are accepted (ParseIPSloppy)');
  assert.deepEqual(render(isValidIP('spec.ip', '::ffff:1.2.3.4')), []);
  assert.deepEqual(render(isValidIP('spec.ip', '1.2.3')), ['spec.ip: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
  assert.deepEqual(render(isValidIP('spec.ip', 'fe80::1%eth0')), ['spec.ip: Invalid value: "fe80::1%eth0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
  assert.deepEqual(render(isValidIPv4Address('a', '::1')), ['a: Invalid value: "::1": must be a valid IPv4 address']);
  assert.deepEqual(render(isValidIPv6Address('a', '1.2.3.4')), ['a: Invalid value: "1.2.3.4": must be a valid IPv6 address']);
  assert.equal(ipFamilyOf('2001:db8::1'), 'IPv6');
  assert.equal(ipFamilyOf('::ffff:10.0.0.1'), 'IPv4');
  assert.deepEqual(render(isValidCIDR('c', '10.0.0.0/8')), []);
  assert.deepEqual(render(isValidCIDR('c', '10.0.0.0/33')), ['c: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)']);
  assert.deepEqual(render(isFullyQualifiedDomainName('a', 'example.com.')), []);
  assert.deepEqual(render(isFullyQualifiedDomainName('a', 'localhost')), ['a: Invalid value: "localhost": should be a domain with at least two segments separated by dots']);
  assert.deepEqual(render(isFullyQualifiedDomainName('a', '')), ['a: Required value']);
  assert.deepEqual(render(isDomainPrefixedPath('c', 'example.com/ingress')), []);
  assert.deepEqual(render(isDomainPrefixedPath('c', 'nginx')), ['c: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
});

test('labels, annotations and helper errors render like kubectl', () => {
  assert.deepEqual(render(validateLabels({ app: 'web', 'bad key!': 'x', ok: 'bad value' }, 'metadata.labels')), [
    `metadata.labels: Invalid value: "bad key!": ${NAME_PART}`,
    `metadata.labels: Invalid value: "bad value": ${LABEL_VALUE}`,
  ]);
  assert.deepEqual(render(validateAnnotations({ 'Example.COM/Key': 'x' }, 'metadata.annotations')), [], 'annotation keys are lowercased first');
  assert.deepEqual(render(validateAnnotations({ big: 'x'.repeat(256 * 1024) }, 'metadata.annotations')), ['metadata.annotations: Too long: may not be more than 262144 bytes']);
  assert.equal(fieldErrorMessage(tooLong('x', 1)), 'x: Too long: may not be more than 1 byte');
  assert.equal(fieldErrorMessage(tooMany('spec.items', 5, 3)), 'spec.items: Too many: 5: must have at most 3 items');
  assert.equal(fieldErrorMessage(notFound('spec.volumeMounts[0].name', 'data')), 'spec.volumeMounts[0].name: Not found: "data"');
  assert.deepEqual(render(validateImmutableField('b', 'a', 'spec.x')), ['spec.x: Invalid value: "b": field is immutable']);
  assert.deepEqual(validateImmutableField([], undefined, 'spec.x'), [], 'empty and missing are semantically equal');
  assert.equal(semanticEqual({ a: [], b: '' }, {}), true);
  assert.equal(semanticEqual({ a: [1] }, { a: [2] }), false);
});

test('label selectors', () => {
  const cases: [unknown, string[]][] = [
    [{ matchLabels: { app: 'web' } }, []],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: [] }] }, ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]],
    [{ matchExpressions: [{ key: 'env', operator: 'Exists', values: ['a'] }] }, ["spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"]],
    [{ matchExpressions: [{ key: 'env', operator: 'Equals', values: ['a'] }] }, ['spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator']],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['bad value'] }] }, [`spec.selector.matchExpressions[0].values[0]: Invalid value: "bad value": ${LABEL_VALUE}`]],
    [{ matchLabels: { '-x': 'y' } }, [`spec.selector.matchLabels: Invalid value: "-x": ${NAME_PART}`]],
  ];
  for (const [sel, want] of cases) assert.deepEqual(render(validateLabelSelector(sel, 'spec.selector')), want, JSON.stringify(sel));
  assert.equal(labelSelectorMatches({ matchLabels: { a: 'b' } }, { a: 'b', c: 'd' }), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, {}), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, {}), false);
  assert.equal(labelSelectorMatches(undefined, { a: 'b' }), false, 'a nil selector selects nothing');
  assert.equal(isConvertibleLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), false);
});

test('ObjectMeta on create', () => {
  const cases: [string, unknown, Parameters<typeof validateObjectMeta>[1], string[]][] = [
    ['valid', { name: 'web', namespace: 'default' }, { namespaced: true }, []],
    ['bad name', { name: 'Bad_Name', namespace: 'default' }, { namespaced: true }, [`metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN}`]],
    ['no name', { namespace: 'default' }, { namespaced: true }, ['metadata.name: Required value: name or generateName is required']],
    ['bad generateName', { generateName: 'Web-', name: 'Web-abcde', namespace: 'default' }, { namespaced: true }, [
      `metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN}`, `metadata.name: Invalid value: "Web-abcde": ${SUBDOMAIN}`,
    ]],
    ['namespace required', { name: 'web' }, { namespaced: true }, ['metadata.namespace: Required value']],
    ['bad namespace', { name: 'web', namespace: 'Prod' }, { namespaced: true }, [`metadata.namespace: Invalid value: "Prod": ${LABEL}`]],
    ['cluster-scoped', { name: 'web', namespace: 'default' }, { namespaced: false }, ['metadata.namespace: Forbidden: not allowed on this type']],
    ['service name rule', { name: '1svc', namespace: 'default' }, { namespaced: true, nameFn: nameIsDNS1035Label }, [`metadata.name: Invalid value: "1svc": ${DNS1035}`]],
    ['negative generation', { name: 'web', namespace: 'd', generation: -1 }, {}, ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']],
    ['finalizers', { name: 'web', finalizers: ['kubernetes', 'custom', 'example.com/f', 'bad/na me'] }, {}, [
      `metadata.finalizers: Invalid value: "bad/na me": ${NAME_PART}`,
      'metadata.finalizers[1]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]],
    ['owner references', { name: 'web', ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true },
      { apiVersion: '', kind: '', name: '', uid: '' },
    ] }, {}, [
      'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]],
    ['managed fields', { name: 'web', managedFields: [{ manager: 'kubectl', operation: 'Patch', fieldsType: 'FieldsV2' }] }, {}, [
      'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
      'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
    ]],
  ];
  for (const [name, meta, opts, want] of cases) assert.deepEqual(render(validateObjectMeta(meta, opts)), want, name);
  // Struct and slice values are printed by Go with %#v; errors.ts prints JSON, so only the path and
  // the detail are compared for these.
  const conflict = render(validateObjectMeta({ name: 'x', finalizers: ['orphan', 'foregroundDeletion'] }));
  assert.equal(conflict.length, 1);
  assert.match(conflict[0], /^metadata\.finalizers: Invalid value: .*: finalizer orphan and foregroundDeletion cannot be both set$/);
  const two = render(validateObjectMeta({ name: 'x', ownerReferences: [
    { apiVersion: 'v1', kind: 'A', name: 'a', uid: '1', controller: true }, { apiVersion: 'v1', kind: 'B', name: 'b', uid: '2', controller: true },
  ] }));
  assert.equal(two.length, 1);
  assert.match(two[0], /^metadata\.ownerReferences: Invalid value: .*: Only one reference can have Controller set to true\. Found "true" in references for A\/a and B\/b$/);
});

test('ObjectMeta on update', () => {
  const old = { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5', generation: 3, creationTimestamp: '2024-01-01T00:00:00Z' };
  assert.deepEqual(render(validateObjectMetaUpdate({ ...old }, old)), []);
  assert.deepEqual(render(validateObjectMetaUpdate({ ...old, name: 'other', uid: 'u2', generation: 2, resourceVersion: '' }, old)), [
    'metadata.resourceVersion: Invalid value: "": must be specified for an update',
    'metadata.generation: Invalid value: 2: must not be decremented',
    'metadata.name: Invalid value: "other": field is immutable',
    'metadata.uid: Invalid value: "u2": field is immutable',
  ]);
  const deleting = { ...old, deletionTimestamp: '2024-01-02T00:00:00Z', finalizers: ['a.io/x'] };
  assert.deepEqual(render(validateObjectMetaUpdate({ ...deleting, finalizers: ['a.io/x', 'b.io/z', 'a.io/y'] }, deleting)), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"a.io/y", "b.io/z"}',
  ]);
});

test('template ObjectMeta allows only labels and annotations', () => {
  assert.deepEqual(render(validateTemplateObjectMeta({ labels: { a: 'b' }, name: 'x' }, 'spec.volumeClaimTemplate.metadata')), ['spec.volumeClaimTemplate.metadata.name: Forbidden: cannot be set']);
});
