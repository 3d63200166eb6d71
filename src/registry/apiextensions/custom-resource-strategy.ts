/**
 * Custom resource rules (apiextensions-apiserver pkg/registry/customresource): the structural
 * schema prunes unknown fields, applies defaults and validates (including CEL rules, with oldSelf
 * on updates); the scale subresource's paths are checked; generation follows non-metadata changes.
 */
import { GenericStrategy } from '../strategy.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { FieldError } from '../../apimachinery/errors.js';
import type { StructuralSchema } from '../../apiextensions/schema.js';
import { validateScaleReplicas, type ScaleReplicasPaths } from '../../apiextensions/crd-resource.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../apimachinery/validation.js';

export class CustomResourceStrategy extends GenericStrategy {
  constructor(info: ResourceInfo, private schema: StructuralSchema | undefined, private scale: ScaleReplicasPaths | undefined) {
    super(info);
    this.tracksGeneration = true;
  }

  override defaults(obj: any): void {
    if (!this.schema) return;
    this.schema.prune(obj);
    this.schema.applyDefaults(obj);
  }

  override validate(obj: any): FieldError[] {
    const errs = validateObjectMeta(obj.metadata, {});
    if (this.schema) errs.push(...this.schema.validate(obj));
    errs.push(...validateScaleReplicas(obj, this.scale));
    return errs;
  }

  override validateUpdate(obj: any, old: any): FieldError[] {
    const errs = validateObjectMetaUpdate(obj.metadata, old.metadata);
    if (this.schema) errs.push(...this.schema.validateUpdate(obj, old));
    errs.push(...validateScaleReplicas(obj, this.scale));
    return errs;
  }

  override validateStatusUpdate(obj: any, old: any): FieldError[] {
    return this.validateUpdate(obj, old);
  }
}
