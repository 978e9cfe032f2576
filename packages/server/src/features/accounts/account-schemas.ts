import { z } from 'zod';
import { DomainName } from './domain-name.js';

const Name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const CreateAccountBody = z.object({ name: Name, domain: DomainName.optional() });
export const CreateVirtualAccountBody = z.object({ name: Name });

export const AccountView = z.object({ id: z.string(), name: z.string(), domain: z.string(), createdAt: z.string() });
export const VirtualAccountView = z.object({
  id: z.string(),
  name: z.string(),
  accountId: z.string(),
  createdAt: z.string(),
});
