/**
 * Converts admitted JSON into CEL inputs the way the API server types them
 * from the schema: `integer` (and int-or-string numbers) become CEL `int`
 * (BigInt), `number` stays `double`. Lists and maps count every element a
 * comprehension visits against a cost budget, so evaluation always ends.
 */
import type { CelInput } from '@bufbuild/cel';
import type { KubeSchema } from '../kube-schema.ts';

export class CostExceeded extends Error {
  constructor() {
    super('validation rule cost budget exceeded');
  }
}

export class CostMeter {
  exceeded = false;
  constructor(private remaining: number) {}

  tick(): void {
    if (--this.remaining < 0) {
      this.exceeded = true;
      throw new CostExceeded();
    }
  }
}

/** cel-es iterates a JS array through `values()`; counting there meters every comprehension step. */
class MeteredList extends Array<CelInput> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
  meter?: CostMeter;

  override *values(): ArrayIterator<CelInput> {
    for (let i = 0; i < this.length; i++) {
      this.meter?.tick();
      yield this[i];
    }
  }
}

/** Comprehensions over a map iterate its keys. */
class MeteredMap extends Map<string, CelInput> {
  meter?: CostMeter;

  override *keys(): MapIterator<string> {
    for (const key of super.keys()) {
      this.meter?.tick();
      yield key;
    }
  }
}

export class CelConverter {
  private readonly cache = new WeakMap<object, CelInput>();
  constructor(private readonly meter: CostMeter) {}

  convert(value: unknown, schema: KubeSchema | undefined): CelInput {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number': {
        const integral =
          schema?.type === 'integer' ||
          schema?.['x-kubernetes-int-or-string'] === true ||
          (schema?.type === undefined && Number.isInteger(value));
        return integral && Number.isInteger(value) ? BigInt(value) : value;
      }
      case 'object':
        break;
      default:
        return null;
    }
    if (value === null) return null;
    const cached = this.cache.get(value);
    if (cached !== undefined) return cached;
    let out: CelInput;
    if (Array.isArray(value)) {
      const list = new MeteredList();
      list.meter = this.meter;
      for (const item of value) list.push(this.convert(item, schema?.items));
      out = list;
    } else {
      const map = new MeteredMap();
      map.meter = this.meter;
      const ap = schema?.additionalProperties;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        map.set(k, this.convert(v, schema?.properties?.[k] ?? (typeof ap === 'object' ? ap : undefined)));
      }
      out = map;
    }
    this.cache.set(value, out);
    return out;
  }
}
