import { z } from 'zod';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS domain such as `example.com`: two or more labels, lowercase, at most 253 characters. */
export const DomainName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253, 'must be at most 253 characters')
  .refine((value) => {
    const labels = value.split('.');
    return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && /[a-z]/.test(labels.at(-1) ?? '');
  }, 'must be a domain name such as example.com (letters, digits and hyphens, dot-separated)');

/** The domain given to an account created without one: a slug of its name under `.example`. */
export function defaultDomainFor(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return `${slug || 'account'}.example`;
}
