/**
 * CustomResourceDefinition rules (apiextensions-apiserver pkg/registry/customresourcedefinition):
 * defaulting, validation of names, versions and structural schemas, status accepted at once
 * (keelson's API server plays the naming and establishing controllers), and the cleanup finalizer
 * so deleting a CRD first deletes its objects.
 */
import { GenericStrategy } from '../strategy.js';
import {
  defaultCRD, prepareCRDForCreate, prepareCRDForUpdate, crdStatus, validateCRD, validateCRDUpdate, validateCRDStatusUpdate,
} from '../../apiextensions/crd-validation.js';
import type { FieldError } from '../../apimachinery/errors.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export class CRDStrategy extends GenericStrategy {
  override defaults(obj: any): void { defaultCRD(obj); }

  override prepareForCreate(obj: any): void {
    prepareCRDForCreate(obj);
    obj.status = crdStatus(obj);
    const fin: string[] = obj.metadata.finalizers ?? [];
    if (!fin.includes(CRD_CLEANUP_FINALIZER)) obj.metadata.finalizers = [...fin, CRD_CLEANUP_FINALIZER];
  }

  override prepareForUpdate(obj: any, old: any): void {
    prepareCRDForUpdate(obj, old);
    obj.status = crdStatus(obj);
  }

  override validate(obj: any): FieldError[] { return validateCRD(obj); }
  override validateUpdate(obj: any, old: any): FieldError[] { return validateCRDUpdate(obj, old); }
  override validateStatusUpdate(obj: any, old: any): FieldError[] { return validateCRDStatusUpdate(obj, old); }
}
