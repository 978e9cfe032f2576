import { z } from 'zod';
import { DomainName } from './domain-name.js';

const Name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const CreateAccountBody = z.object({ name: Name, domain: DomainName.optional() });
export const CreateVirtualAccountBody = z.object({ name: Name });
