/**
 * Hand-written schemas for the core kinds Sluice reads (see src/api/core.ts).
 * They cover the fields Sluice uses, with the API server's defaults and the
 * checks that matter for routing; every other field is preserved unchecked
 * (`x-kubernetes-preserve-unknown-fields`), so a complete upstream manifest
 * loads without warnings. Rules use the same CEL machinery as the CRDs.
 */
import { normalizeSecret, normalizeService } from './core-normalize.ts';
import type { KindVersion } from './kinds.ts';
import type { KubeSchema } from './kube-schema.ts';

const str: KubeSchema = { type: 'string' };
const stringMap: KubeSchema = { type: 'object', additionalProperties: str };
const open: KubeSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const protocol: KubeSchema = { type: 'string', enum: ['TCP', 'UDP', 'SCTP'], default: 'TCP' };

const CONFIG_KEY_RULE = {
  rule: "self.all(k, size(k) <= 253 && k.matches('^[-._a-zA-Z0-9]+$') && k != '.' && !k.startsWith('..'))",
  message:
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
};

function root(properties: Record<string, KubeSchema>, extra: Partial<KubeSchema> = {}): KubeSchema {
  return {
    type: 'object',
    properties: { apiVersion: str, kind: str, metadata: { type: 'object' }, ...properties },
    'x-kubernetes-preserve-unknown-fields': true,
    ...extra,
  };
}

const namespace: KubeSchema = root({ spec: open, status: open });

const servicePort: KubeSchema = {
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  required: ['port'],
  properties: {
    name: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    protocol,
    port: { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 },
    targetPort: {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-validations': [
        {
          rule: "type(self) == string ? size(self) <= 15 && self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.matches('[a-z]') : self >= 1 && self <= 65535",
          message: 'must be a port number between 1 and 65535 or an IANA service name',
        },
      ],
    },
    nodePort: { type: 'integer', format: 'int32', minimum: 0, maximum: 65535 },
    appProtocol: str,
  },
};

const service: KubeSchema = root({
  spec: {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      type: { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], default: 'ClusterIP' },
      selector: stringMap,
      ports: {
        type: 'array',
        items: servicePort,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['port', 'protocol'],
        'x-kubernetes-validations': [
          {
            rule: "size(self) <= 1 || self.all(p, has(p.name) && p.name != '')",
            message: 'ports must be named when a Service has more than one port',
          },
          {
            rule: 'self.all(p, !has(p.name) || self.exists_one(q, has(q.name) && q.name == p.name))',
            message: 'port names must be unique',
          },
        ],
      },
      clusterIP: str,
      clusterIPs: { type: 'array', items: str },
      externalName: str,
      ipFamilies: { type: 'array', items: { type: 'string', enum: ['IPv4', 'IPv6'] } },
    },
    'x-kubernetes-validations': [
      {
        rule: "self.type != 'ExternalName' || (has(self.externalName) && self.externalName != '')",
        message: 'Required value',
        fieldPath: '.externalName',
      },
      {
        rule: "self.type == 'ExternalName' || (has(self.clusterIP) && self.clusterIP == 'None') || (has(self.ports) && size(self.ports) > 0)",
        message: 'Required value',
        fieldPath: '.ports',
      },
    ],
  },
  status: open,
});

const endpoint: KubeSchema = {
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  required: ['addresses'],
  properties: {
    addresses: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: str,
      'x-kubernetes-list-type': 'set',
    },
    conditions: {
      type: 'object',
      properties: { ready: { type: 'boolean' }, serving: { type: 'boolean' }, terminating: { type: 'boolean' } },
    },
    hostname: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    nodeName: str,
    zone: str,
    targetRef: {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { kind: str, name: str, namespace: str },
    },
  },
};

const endpointSlice: KubeSchema = root(
  {
    addressType: { type: 'string', enum: ['IPv4', 'IPv6', 'FQDN'] },
    endpoints: { type: 'array', maxItems: 1000, items: endpoint, 'x-kubernetes-list-type': 'atomic' },
    ports: {
      type: 'array',
      maxItems: 20000,
      'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        properties: {
          name: { type: 'string', maxLength: 63, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$' },
          port: { type: 'integer', format: 'int32', minimum: 0, maximum: 65535, nullable: true },
          protocol,
          appProtocol: str,
        },
      },
    },
  },
  {
    required: ['addressType'],
    'x-kubernetes-validations': [
      {
        // The family check leans on isIP: an IPv4 address has no ':' and an IPv6 address has one.
        rule: "!has(self.endpoints) || !has(self.addressType) || self.endpoints.all(e, e.addresses.all(a, self.addressType == 'FQDN' ? a.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$') : isIP(a) && (self.addressType == 'IPv6') == a.contains(':')))",
        message: 'every endpoint address must be a valid address of the slice addressType',
        fieldPath: '.endpoints',
      },
    ],
  },
);

const secret: KubeSchema = root(
  {
    type: { type: 'string', default: 'Opaque' },
    data: {
      type: 'object',
      additionalProperties: { type: 'string', format: 'byte' },
      'x-kubernetes-validations': [CONFIG_KEY_RULE],
    },
    // Only left after normalizeSecret when it is malformed, so that this reports it.
    stringData: stringMap,
    immutable: { type: 'boolean' },
  },
  {
    'x-kubernetes-validations': [
      {
        rule: "self.type != 'kubernetes.io/tls' || (has(self.data) && 'tls.crt' in self.data && 'tls.key' in self.data)",
        message: 'tls.crt and tls.key are required for a Secret of type kubernetes.io/tls',
        fieldPath: '.data',
      },
    ],
  },
);

const configMap: KubeSchema = root(
  {
    data: { ...stringMap, 'x-kubernetes-validations': [CONFIG_KEY_RULE] },
    binaryData: {
      type: 'object',
      additionalProperties: { type: 'string', format: 'byte' },
      'x-kubernetes-validations': [CONFIG_KEY_RULE],
    },
    immutable: { type: 'boolean' },
  },
  {
    'x-kubernetes-validations': [
      {
        rule: '!has(self.data) || !has(self.binaryData) || self.data.all(k, !(k in self.binaryData))',
        message: 'a key must not appear in both data and binaryData',
      },
    ],
  },
);

function core(group: string, kind: string, schema: KubeSchema, extra: Partial<KindVersion> = {}): KindVersion {
  return {
    group,
    version: 'v1',
    kind,
    namespaced: true,
    schema,
    statusSubresource: false,
    nameFormat: 'dns1123Subdomain',
    source: 'src/api/validation/core-schemas.ts',
    ...extra,
  };
}

export const CORE_KINDS: readonly KindVersion[] = [
  core('', 'Namespace', namespace, { namespaced: false, nameFormat: 'dns1123Label' }),
  core('', 'Service', service, { nameFormat: 'dns1035Label', normalize: normalizeService }),
  core('discovery.k8s.io', 'EndpointSlice', endpointSlice),
  core('', 'Secret', secret, { normalize: normalizeSecret }),
  core('', 'ConfigMap', configMap),
];
